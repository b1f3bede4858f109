"""Operations: health endpoints and management commands."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey, Membership, Organization, User
from accounts.roles import Role
from tests.conftest import api_client


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database_and_broker(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_when_the_broker_is_down(client, db, monkeypatch):
    from followup.site import views

    def down():
        raise ConnectionRefusedError("broker")

    monkeypatch.setattr(views, "_check_broker", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


def test_create_org_prints_a_working_api_key_last(db):
    out = StringIO()
    call_command("create_org", "Initech", "--owner", "Peter@Initech.test", "--api-key", stdout=out)
    plain = out.getvalue().strip().splitlines()[-1]
    org = Organization.objects.get(name="Initech")
    owner = User.objects.get(email="peter@initech.test")
    assert Membership.objects.for_org(org).get(user=owner).role == Role.OWNER
    assert ApiKey.objects.for_org(org).get().matches(plain)
    assert api_client(plain).get("/api/v1/members/").status_code == 200
    assert not owner.has_usable_password()


def test_two_orgs_from_create_org_cannot_see_each_other(db):
    keys = []
    for name in ("One", "Two"):
        out = StringIO()
        call_command(
            "create_org", name, "--owner", f"boss@{name.lower()}.test", "--api-key", stdout=out
        )
        keys.append(out.getvalue().strip().splitlines()[-1])
    one = api_client(keys[0]).get("/api/v1/members/").json()["results"]
    assert [m["user"]["email"] for m in one] == ["boss@one.test"]
    member_of_one = one[0]["id"]
    assert api_client(keys[1]).get(f"/api/v1/members/{member_of_one}/").status_code == 404


def test_create_org_refuses_a_bad_owner(db):
    with pytest.raises(CommandError, match="e-mail"):
        call_command("create_org", "X", "--owner", "not-an-email")


def test_seed_demo_is_idempotent_and_prints_logins(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())
    org = Organization.objects.get(slug="demo")
    roles = set(Membership.objects.for_org(org).values_list("role", flat=True))
    assert roles == set(Role.values)
    assert Membership.objects.for_org(org).count() == 6
    for role in Role.values:
        assert role in out.getvalue()
    assert User.objects.get(email="rep@demo.followup.test").check_password("followup-demo")


@pytest.mark.slow
def test_the_project_installs_with_pip_editable(tmp_path):
    """Defect (issue 7.15): `pip install -e .` failed on the flat layout."""
    import subprocess
    import venv
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    venv.create(tmp_path / "venv", with_pip=True)
    pip = tmp_path / "venv" / "bin" / "pip"
    result = subprocess.run(
        [str(pip), "install", "--quiet", "--no-deps", "-e", str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    shown = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-c", "import followup, accounts, projects"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert shown.returncode == 0, shown.stderr


def test_a_403_logs_one_line_without_a_traceback(viewer_client, caplog):
    """Issue 11, defect 11: each 403 logged a full traceback, twice."""
    import logging

    from django.urls import reverse

    with caplog.at_level(logging.WARNING):
        response = viewer_client.post(reverse("followup:create", kwargs={"org_slug": "acme"}), {})
    assert response.status_code == 403
    forbidden = [r for r in caplog.records if getattr(r, "status_code", None) == 403]
    assert len(forbidden) == 1
    assert forbidden[0].exc_info is None and "Traceback" not in caplog.text
