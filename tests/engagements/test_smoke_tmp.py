from tests.engagements.factories import log, make_engagement


def test_pages_render(member_client, org, member):
    e = make_engagement(org, owner=member)
    log(org, e.customer, actor=member, sentiment=1)
    for url in [
        "/o/acme/customers/",
        f"/o/acme/customers/{e.customer_id}/",
        f"/o/acme/engagements/{e.pk}/",
        "/o/acme/touchpoints/log/",
        "/o/acme/settings/health/",
        f"/o/acme/customers/{e.customer_id}/edit/",
        f"/o/acme/engagements/{e.pk}/edit/",
        "/o/acme/customers/new/",
        "/o/acme/customers/export.csv",
    ]:
        r = member_client.get(url)
        assert r.status_code == 200, (url, r.content[:3000])


def test_api(api, org):
    e = make_engagement(org)
    r = api.get("/api/v1/customers/")
    assert r.status_code == 200, r.content
    r = api.post("/api/v1/touchpoints/", {"customer": str(e.customer_id), "channel": "call", "summary": "hi"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["engagement"] == str(e.pk)
