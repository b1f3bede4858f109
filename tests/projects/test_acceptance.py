"""Quality (issue 9, item 7): acceptance criteria gate "done"; reopening a done item is
rework."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from projects import quality, services
from projects.models import AcceptanceCriterion, CriterionState, Rework
from tests.projects.factories import fresh, item, make_project
from tests.utils import assert_constant_queries


@pytest.fixture
def work(org):
    project = make_project(org, start_date=date(2027, 1, 4))
    return item(org, project, "Weld frame", 3)


def add(org, work, text="Weld seams inspected"):
    return quality.criterion_add(org=org, actor=None, item=work, text=text)


def set_percent(org, work, value):
    return services.work_item_update(
        org=org, actor=None, item=work, data={"percent_complete": value}
    )


def test_an_open_criterion_blocks_done_and_nothing_changes(org, work):
    add(org, work)
    with pytest.raises(ValidationError) as exc:
        set_percent(org, work, 100)
    assert "percent_complete" in exc.value.message_dict
    assert "Weld seams inspected" in exc.value.message_dict["percent_complete"][0]
    assert fresh(work).percent_complete == 0


def test_an_actual_finish_means_done_and_is_blocked_too(org, work):
    add(org, work)
    with pytest.raises(ValidationError):
        services.work_item_update(
            org=org, actor=None, item=work, data={"actual_finish": date(2027, 1, 6)}
        )
    assert fresh(work).actual_finish is None


def test_checked_or_waived_criteria_let_the_item_be_done(org, work, member):
    checked = add(org, work, "Seams inspected")
    waived = add(org, work, "Paint colour approved")
    quality.criterion_decide(org=org, actor=member, criterion=checked, state="checked")
    set_percent(org, work, 50)  # progress below 100 is never blocked
    with pytest.raises(ValidationError):
        set_percent(org, work, 100)
    quality.criterion_decide(
        org=org, actor=member, criterion=waived, state="waived", reason="Customer paints it"
    )
    assert set_percent(org, work, 100).percent_complete == 100
    assert fresh(waived).waive_reason == "Customer paints it"


def test_waiving_needs_a_reason(org, work, member):
    criterion = add(org, work)
    with pytest.raises(ValidationError) as exc:
        quality.criterion_decide(org=org, actor=member, criterion=criterion, state="waived")
    assert "reason" in exc.value.message_dict
    assert fresh(criterion).state == CriterionState.OPEN


def test_the_api_refuses_done_with_open_criteria_as_problem_json(member_api, org, work):
    add(org, work)
    response = member_api.patch(
        f"/api/v1/work-items/{work.pk}/", {"percent_complete": "100"}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "percent_complete"
    assert fresh(work).percent_complete == 0


def test_the_api_checks_a_criterion_off_then_done_passes(member_api, org, work):
    created = member_api.post(
        "/api/v1/acceptance-criteria/",
        {"work_item": str(work.pk), "text": "Torque values logged"},
        format="json",
    )
    assert created.status_code == 201
    criterion_id = created.json()["id"]
    refused = member_api.post(
        f"/api/v1/acceptance-criteria/{criterion_id}/decide/", {"state": "waived"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "reason"
    checked = member_api.post(
        f"/api/v1/acceptance-criteria/{criterion_id}/decide/", {"state": "checked"}, format="json"
    )
    assert checked.status_code == 200
    assert checked.json()["state"] == "checked"
    done = member_api.patch(
        f"/api/v1/work-items/{work.pk}/", {"percent_complete": "100"}, format="json"
    )
    assert done.status_code == 200


def test_the_edit_form_shows_the_refusal_as_a_form_error(member_client, org, work):
    add(org, work)
    response = member_client.post(
        f"/o/acme/work-items/{work.pk}/edit/",
        {"name": work.name, "duration_days": "3", "percent_complete": "100"},
    )
    assert response.status_code == 400
    assert "acceptance criterion" in response.content.decode()
    assert fresh(work).percent_complete == 0


def test_the_work_item_page_checks_off_and_waives(member_client, org, work):
    criterion = add(org, work)
    page = member_client.get(f"/o/acme/work-items/{work.pk}/").content.decode()
    assert "Weld seams inspected" in page and "Check off" in page
    missing_reason = member_client.post(
        f"/o/acme/acceptance-criteria/{criterion.pk}/decide/", {"state": "waived", "reason": ""}
    )
    assert missing_reason.status_code == 302
    assert fresh(criterion).state == CriterionState.OPEN
    member_client.post(
        f"/o/acme/acceptance-criteria/{criterion.pk}/decide/",
        {"state": "waived", "reason": "Inspected by the customer"},
    )
    assert fresh(criterion).state == CriterionState.WAIVED


def test_reopening_a_done_item_is_counted_as_rework(org, work, member):
    set_percent(org, work, 100)
    assert not Rework.objects.for_org(org).exists()
    services.work_item_update(org=org, actor=member, item=work, data={"percent_complete": 60})
    set_percent(org, work, 100)
    set_percent(org, work, 80)
    rows = list(Rework.objects.for_org(org).filter(work_item=work))
    assert [r.percent_after for r in rows] == [60, 80]
    assert rows[0].actor == member


def test_progress_changes_below_done_are_not_rework(org, work):
    set_percent(org, work, 40)
    set_percent(org, work, 20)
    assert not Rework.objects.for_org(org).exists()


def test_a_criterion_of_a_done_item_cannot_be_opened_again(org, work, member):
    criterion = add(org, work)
    quality.criterion_decide(org=org, actor=member, criterion=criterion, state="checked")
    set_percent(org, work, 100)
    with pytest.raises(ValidationError):
        quality.criterion_decide(org=org, actor=member, criterion=criterion, state="open")


def test_the_criteria_api_list_costs_the_same_for_1_and_50(member_api, org, work):
    def make(n):
        for i in range(n):
            AcceptanceCriterion.objects.create(organization=org, work_item=work, text=f"C {i}")

    assert_constant_queries(make, lambda: member_api.get("/api/v1/acceptance-criteria/"))
