"""The API of the follow-up engine: followups, notifications and webhooks, with roles,
problem+json, foreign ids, filters and constant query counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiKey, Membership
from accounts.roles import Role
from followup.engine import notifications, services, webhooks
from followup.engine.models import FollowUp, FollowUpStatus, WebhookDelivery
from tests.conftest import api_client
from tests.factories import make_api_key
from tests.followup.test_api_conventions import assert_problem
from tests.utils import assert_constant_queries


def body(owner, **extra):
    return {
        "title": "Call ACME",
        "owner": str(owner.pk),
        "due_at": (timezone.now() + timedelta(days=1)).isoformat(),
        **extra,
    }


@pytest.fixture
def person_api(org, member):
    """A member-role key made by a person (notifications and default owner are theirs)."""
    key, plain = make_api_key(org, Role.MEMBER)
    ApiKey.objects.for_org(org).filter(pk=key.pk).update(created_by=member)
    return api_client(plain)


def test_crud(api, org, member):
    created = api.post(
        "/api/v1/followups/",
        body(member, recurrence="FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", reminder_offsets=[1440, 0]),
        format="json",
    )
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["recurrence"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
    assert data["reminder_offsets"] == [0, 1440]
    assert data["url"].startswith("http") and data["status"] == "open"
    url = f"/api/v1/followups/{data['id']}/"
    assert api.get(url)["ETag"] == '"1"'
    patched = api.patch(url, {"title": "Call ACME again"}, format="json", HTTP_IF_MATCH='"1"')
    assert patched.status_code == 200 and patched.json()["title"] == "Call ACME again"
    assert patched.json()["recurrence"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"
    assert_problem(api.patch(url, {"title": "stale"}, format="json", HTTP_IF_MATCH='"1"'), 412)
    assert api.delete(url).status_code == 204
    assert_problem(api.get(url), 404)


def test_bad_input_is_problem_json(api, org, member, outsider):
    problem = assert_problem(api.post("/api/v1/followups/", {}, format="json"), 400)
    fields = {e["field"] for e in problem["errors"]}
    assert {"title", "due_at"} <= fields
    problem = assert_problem(
        api.post("/api/v1/followups/", body(member, recurrence="FREQ=OFTEN"), format="json"), 400
    )
    assert problem["errors"][0]["field"] == "recurrence"
    # A person of another organization is a foreign id: 400, nothing created.
    assert_problem(api.post("/api/v1/followups/", body(outsider), format="json"), 400)
    assert not FollowUp.objects.for_org(org).exists()


def test_the_owner_defaults_to_the_keys_person(person_api, api, member):
    data = body(member)
    del data["owner"]
    assert person_api.post("/api/v1/followups/", data, format="json").json()["owner"] == str(
        member.pk
    )
    problem = assert_problem(api.post("/api/v1/followups/", data, format="json"), 400)
    assert problem["errors"][0]["field"] == "owner"


def test_subjects_are_resolved_inside_the_organization(
    api, org, other_org, member, outsider, membership_subject
):
    mine = Membership.objects.for_org(org).get(user=member)
    theirs = Membership.objects.for_org(other_org).get(user=outsider)
    ok = api.post(
        "/api/v1/followups/",
        body(member, subject_type="membership", subject_id=str(mine.pk)),
        format="json",
    )
    assert ok.status_code == 201
    assert ok.json()["subject"]["id"] == str(mine.pk)
    assert ok.json()["subject"]["title"] == member.email
    for subject in [
        {"subject_type": "membership", "subject_id": str(theirs.pk)},
        {"subject_type": "spaceship", "subject_id": str(mine.pk)},
        {"subject_type": "membership"},
    ]:
        assert_problem(api.post("/api/v1/followups/", body(member, **subject), format="json"), 400)
    listed = api.get(f"/api/v1/followups/?subject_type=membership&subject_id={mine.pk}").json()
    assert [r["id"] for r in listed["results"]] == [ok.json()["id"]]


def test_filters(api, org, member, owner, make_followup):
    soon = make_followup(title="soon", due_at=timezone.now() + timedelta(hours=1))
    later = make_followup(title="later", due_at=timezone.now() + timedelta(days=5), owner=owner)
    done = make_followup(title="done")
    services.followup_complete(followup=done, actor=member)

    def titles(query: str) -> set[str]:
        response = api.get("/api/v1/followups/?" + query)
        assert response.status_code == 200, response.content
        return {r["title"] for r in response.json()["results"]}

    assert titles(f"owner={owner.pk}") == {"later"}
    assert titles("status=done") == {"done"}
    cut = (timezone.now() + timedelta(days=2)).isoformat().replace("+", "%2B")
    assert titles(f"due_before={cut}&status=open") == {"soon"}
    assert titles(f"due_after={cut}") == {"later"}
    assert soon.pk and later.pk
    assert_problem(api.get("/api/v1/followups/?due_before=tomorrow"), 400)
    assert_problem(api.get("/api/v1/followups/?subject_type=spaceship"), 400)


def test_actions(api, org, member, owner, make_followup):
    followup = make_followup(recurrence_rule="FREQ=DAILY")
    url = f"/api/v1/followups/{followup.pk}/"
    snoozed = api.post(url + "snooze/", {"preset": "1d"}, format="json")
    assert snoozed.status_code == 200
    assert_problem(api.post(url + "snooze/", {"until": "2001-01-01T00:00:00Z"}, format="json"), 400)
    assert_problem(api.post(url + "snooze/", {}, format="json"), 400)
    reassigned = api.post(url + "reassign/", {"owner": str(owner.pk)}, format="json")
    assert reassigned.json()["owner"] == str(owner.pk)
    completed = api.post(url + "complete/", {}, format="json")
    assert completed.status_code == 200
    assert completed.json()["status"] == "done"
    assert completed.json()["next"]["sequence"] == 1
    problem = assert_problem(api.post(url + "complete/", {}, format="json"), 409)
    assert problem["current_status"] == "done"
    assert_problem(api.post(url + "skip/", {}, format="json"), 409)
    nxt = completed.json()["next"]["id"]
    skipped = api.post(f"/api/v1/followups/{nxt}/skip/", {}, format="json").json()
    assert skipped["status"] == "skipped" and skipped["next"]["sequence"] == 2


def test_a_viewer_reads_but_does_not_write(viewer_api, org, member, make_followup):
    followup = make_followup()
    assert viewer_api.get("/api/v1/followups/").status_code == 200
    assert_problem(viewer_api.post("/api/v1/followups/", body(member), format="json"), 403)
    assert_problem(viewer_api.post(f"/api/v1/followups/{followup.pk}/complete/"), 403)
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.OPEN


def test_notifications_are_the_keys_persons_own(person_api, api, org, member, owner):
    notifications.notify(
        org=org, recipients=[member], kind="followup.assigned", params={"title": "Mine", "by": "x"}
    )
    notifications.notify(
        org=org, recipients=[owner], kind="followup.assigned", params={"title": "Not", "by": "x"}
    )
    rows = person_api.get("/api/v1/notifications/").json()["results"]
    assert [r["title"] for r in rows] == ["x gave you the follow-up “Mine”"]
    assert api.get("/api/v1/notifications/").json()["results"] == []  # a key of nobody
    read = person_api.post(f"/api/v1/notifications/{rows[0]['id']}/read/")
    assert read.status_code == 200 and read.json()["read_at"]
    assert person_api.post("/api/v1/notifications/read-all/").json() == {"marked": 0}


def test_only_admins_manage_webhooks(api, member_api, viewer_api, org):
    created = api.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "event_types": ["followup.completed"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    url = f"/api/v1/webhooks/{created.json()['id']}/"
    assert "secret" not in api.get(url).json()
    for client in (member_api, viewer_api):
        assert_problem(client.get("/api/v1/webhooks/"), 403)
        assert_problem(client.get(url), 403)
        assert_problem(client.delete(url), 403)
    assert_problem(
        api.post("/api/v1/webhooks/", {"url": "ftp://x", "event_types": ["x.y"]}, format="json"),
        400,
    )
    assert api.patch(url, {"enabled": False}, format="json").json()["enabled"] is False
    types = api.get("/api/v1/webhooks/event-types/").json()["types"]
    assert {"followup.created", "followup.due", "followup.completed"} <= set(types)


def test_webhook_deliveries_and_replay(api, org, monkeypatch):
    from followup.engine import tasks

    queued = []
    monkeypatch.setattr(tasks.replay_webhook, "delay", lambda *a: queued.append(a))
    endpoint = webhooks.endpoint_create(
        org=org, actor=None, url="http://127.0.0.1:9/h", event_types=["followup.created"]
    )
    delivery = WebhookDelivery.objects.create(
        organization=org, endpoint=endpoint, event_type="followup.created",
        message_id="msg_1", body="{}", next_attempt_at=timezone.now(),
    )  # fmt: skip
    rows = api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/").json()["results"]
    assert [r["message_id"] for r in rows] == ["msg_1"]
    replay = api.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/replay/")
    assert replay.status_code == 202
    assert queued == [(str(org.pk), str(delivery.pk))]
    assert_problem(api.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/nope/replay/"), 404)


def test_lists_take_constant_queries(api, person_api, org, member):
    def followups(n):
        for _ in range(n):
            services.followup_create(
                org=org, actor=None, title="x", owner=member, due_at=timezone.now()
            )

    assert_constant_queries(followups, lambda: api.get("/api/v1/followups/?page_size=100"))

    def notes(n):
        for i in range(n):
            notifications.notify(
                org=org, recipients=[member], kind="followup.assigned",
                params={"title": str(i), "by": "x"}, dedupe_key=f"n{timezone.now().timestamp()}{i}",
            )  # fmt: skip

    assert_constant_queries(notes, lambda: person_api.get("/api/v1/notifications/?page_size=100"))

    endpoint = webhooks.endpoint_create(
        org=org, actor=None, url="http://127.0.0.1:9/h", event_types=["followup.created"]
    )

    def deliveries(n):
        for i in range(n):
            WebhookDelivery.objects.create(
                organization=org, endpoint=endpoint, event_type="followup.created",
                message_id=f"m{i}", body="{}",
            )  # fmt: skip

    assert_constant_queries(
        deliveries, lambda: api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/?page_size=100")
    )
