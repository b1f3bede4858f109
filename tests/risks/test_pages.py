"""Pages of the risk register: register, matrix, FMEA sheet, forms, settings."""

import csv
import io
import re

import pytest

from risks.models import Risk
from tests.engagements.factories import make_customer
from tests.projects.factories import make_project
from tests.risks.factories import make_risk
from tests.utils import assert_constant_queries

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def test_the_register_splits_business_and_project_risks(member_client, org, member):
    make_risk(org, make_customer(org, name="Retail Co"), title="Retail churn", owner=member)
    make_risk(org, make_project(org, code="LINE"), title="Late conveyor")
    page = body(member_client.get("/o/acme/risks/"))
    assert "Business risks: watched continuously" in page
    assert "Project risks: reviewed stage by stage" in page
    assert page.index("Retail churn") < page.index("Project risks") < page.index("Late conveyor")


def test_the_register_filters_by_side_level_and_cell(member_client, org):
    customer = make_customer(org)
    make_risk(org, customer, title="Red one", probability=5, impact=5)
    make_risk(org, customer, title="Green one", probability=1, impact=1)
    make_risk(org, make_project(org), title="Project one", probability=5, impact=5)
    page = body(member_client.get("/o/acme/risks/?side=business&level=high"))
    assert "Red one" in page and "Green one" not in page and "Project one" not in page
    page = body(member_client.get("/o/acme/risks/?p=1&i=1"))
    assert "Green one" in page and "Red one" not in page


def test_the_register_has_constant_queries(member_client, org, member):
    customer, project = make_customer(org), make_project(org)

    def rows(n):
        for k in range(n):
            make_risk(org, customer if k % 2 else project, owner=member, category="market")

    assert_constant_queries(rows, lambda: member_client.get("/o/acme/risks/"))


def test_the_matrix_counts_cells_and_links_to_the_filtered_register(member_client, org):
    customer = make_customer(org)
    make_risk(org, customer, probability=4, impact=5, residual_probability=2, residual_impact=2)
    make_risk(org, customer, probability=4, impact=5)
    page = body(member_client.get("/o/acme/risks/matrix/"))
    assert "Probability 4, impact 5: High, 2 risks" in page
    assert re.search(r'href="/o/acme/risks/\?[^"]*p=4&amp;i=5', page)
    residual = body(member_client.get("/o/acme/risks/matrix/?residual=on"))
    assert "Probability 2, impact 2: Low, 1 risks" in residual
    assert "Probability 4, impact 5: High, 0 risks" in residual


def test_the_matrix_has_constant_queries(member_client, org):
    customer = make_customer(org)

    def rows(n):
        for k in range(n):
            make_risk(org, customer, probability=1 + k % 5, impact=1 + (k // 5) % 5)

    assert_constant_queries(rows, lambda: member_client.get("/o/acme/risks/matrix/"))


def test_the_project_matrix_counts_only_that_project(member_client, org):
    project, other = make_project(org), make_project(org)
    make_risk(org, project, probability=3, impact=3)
    make_risk(org, other, probability=3, impact=3)
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/risk-matrix/"))
    assert "Probability 3, impact 3: Medium, 1 risks" in page
    assert f"project={project.pk}" in page


def test_the_fmea_sheet_sorts_and_exports(member_client, org):
    project = make_project(org, code="LINE")
    make_risk(org, project, failure_mode="Seal leaks", severity=9, occurrence=4, detection=5)
    make_risk(org, project, failure_mode="Label smudges", severity=2, occurrence=3, detection=2)
    make_risk(org, project, title="No FMEA here")
    page = body(member_client.get(f"/o/acme/projects/{project.pk}/fmea/"))
    assert page.index("Seal leaks") < page.index("Label smudges")
    assert "No FMEA here" not in page
    ascending = body(member_client.get(f"/o/acme/projects/{project.pk}/fmea/?sort=failure_mode"))
    assert ascending.index("Label smudges") < ascending.index("Seal leaks")
    response = member_client.get(f"/o/acme/projects/{project.pk}/fmea.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:9] == ["Seal leaks", "", "", "", "9", "4", "5", "180", "H"]
    assert rows[2][7:9] == ["12", "L"]


def test_the_fmea_sheet_has_constant_queries(member_client, org):
    project = make_project(org)

    def rows(n):
        for _ in range(n):
            make_risk(org, project, severity=5, occurrence=5, detection=5)

    assert_constant_queries(rows, lambda: member_client.get(f"/o/acme/projects/{project.pk}/fmea/"))


def test_a_csv_cell_is_never_a_formula(member_client, org):
    project = make_project(org)
    make_risk(org, project, failure_mode="=HYPERLINK(1)", severity=1, occurrence=1, detection=1)
    text = member_client.get(f"/o/acme/projects/{project.pk}/fmea.csv").content.decode()
    assert "'=HYPERLINK(1)" in text


def test_creating_a_risk_through_the_form(member_client, org, member):
    customer = make_customer(org, name="Retail Co")
    response = member_client.post(
        "/o/acme/risks/new/",
        {
            "subject": f"customer:{customer.pk}",
            "title": "Seasonal peak overloads support",
            "probability": "4",
            "impact": "4",
            "category": "customer",
            "owner": str(member.pk),
            "currency": "EUR",
            "indicator_direction": "up",
            "strategy": "mitigate",
        },
    )
    assert response.status_code == 302
    risk = Risk.objects.for_org(org).get()
    assert (risk.side, risk.score, risk.level, risk.customer) == ("business", 16, "high", customer)
    page = body(member_client.get(response["Location"]))
    assert "Seasonal peak overloads support" in page and "Score history" in page


def test_bad_input_in_the_form_is_a_form_error(member_client, org):
    project = make_project(org)
    response = member_client.post(
        "/o/acme/risks/new/",
        {
            "subject": f"project:{project.pk}",
            "title": "Half an FMEA",
            "probability": "4",
            "impact": "9",
            "severity": "5",
            "currency": "EUR",
            "indicator_direction": "up",
        },
    )
    assert response.status_code == 400
    assert "Select a valid choice" in body(response)
    assert not Risk.objects.for_org(org).exists()


def test_a_half_fmea_is_a_form_error_not_a_500(member_client, org):
    project = make_project(org)
    response = member_client.post(
        "/o/acme/risks/new/",
        {
            "subject": f"project:{project.pk}",
            "title": "Half an FMEA",
            "probability": "4",
            "impact": "4",
            "severity": "5",
            "currency": "EUR",
            "indicator_direction": "up",
        },
    )
    assert response.status_code == 400
    assert "An FMEA rating needs a severity, an occurrence and a detection." in body(response)


def test_a_kri_reading_on_the_page_rerates_and_shows_the_zone(member_client, org, member):
    risk = make_risk(
        org,
        make_customer(org),
        owner=member,
        probability=2,
        impact=5,
        indicator_name="Resin price",
        indicator_amber="100",
        indicator_red="120",
    )
    response = member_client.post(f"/o/acme/risks/{risk.pk}/indicator-values/", {"value": "130"})
    assert response.status_code == 302
    page = body(member_client.get(f"/o/acme/risks/{risk.pk}/"))
    assert "Resin price" in page and 'class="badge red">Red' in page
    risk.refresh_from_db()
    assert risk.probability == 4


def test_occur_and_close_from_the_page(member_client, org):
    risk = make_risk(org, make_customer(org))
    member_client.post(f"/o/acme/risks/{risk.pk}/status/", {"action": "occur"})
    risk.refresh_from_db()
    assert risk.status == "occurred"
    member_client.post(f"/o/acme/risks/{risk.pk}/status/", {"action": "close"})
    risk.refresh_from_db()
    assert risk.status == "closed"


def test_a_viewer_reads_but_never_writes(viewer_client, org):
    risk = make_risk(org, make_customer(org))
    assert viewer_client.get(f"/o/acme/risks/{risk.pk}/").status_code == 200
    assert viewer_client.get("/o/acme/risks/matrix/").status_code == 200
    assert (
        viewer_client.post(f"/o/acme/risks/{risk.pk}/status/", {"action": "close"}).status_code
        == 403
    )
    assert viewer_client.get("/o/acme/risks/new/").status_code == 403


def test_admins_set_a_custom_matrix_and_risks_are_relevelled(owner_client, member_client, org):
    risk = make_risk(org, make_customer(org), probability=2, impact=2)
    cells = {
        f"cell_{p}_{i}": "high" if p * i >= 4 else "low" for p in range(1, 6) for i in range(1, 6)
    }
    words = {
        f"probability_{n}": w
        for n, w in enumerate(["Rare", "Unlikely", "Possible", "Likely", "Almost certain"], 1)
    }
    words |= {
        f"impact_{n}": w
        for n, w in enumerate(["Negligible", "Minor", "Moderate", "Major", "Severe"], 1)
    }
    response = owner_client.post(
        "/o/acme/risks/settings/", {**cells, **words, "categories": "Supply chain\nWeather"}
    )
    assert response.status_code == 302
    risk.refresh_from_db()
    assert risk.level == "high"
    assert member_client.post("/o/acme/risks/settings/", {}).status_code == 403


def test_a_matrix_that_is_not_monotone_is_refused_naming_the_cell(owner_client, org):
    cells = {f"cell_{p}_{i}": "low" for p in range(1, 6) for i in range(1, 6)}
    cells["cell_3_3"] = "high"
    words = {f"probability_{n}": "x" for n in range(1, 6)} | {
        f"impact_{n}": "y" for n in range(1, 6)
    }
    response = owner_client.post("/o/acme/risks/settings/", {**cells, **words, "categories": "A"})
    assert response.status_code == 400
    assert "P3 x I4" in body(response)


def test_the_register_offers_saved_views(member_client, org):
    page = body(member_client.get("/o/acme/risks/?side=business"))
    assert "Save this view" in page
    response = member_client.post(
        "/o/acme/saved-views/", {"list": "risks", "name": "Business only", "query": "side=business"}
    )
    assert response.status_code == 302
    assert "Business only" in body(member_client.get("/o/acme/risks/"))
