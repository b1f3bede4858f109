"""The settings module: strict parsing, and a production shape that passes --deploy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from followup.site import env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("raw", ["flase", "2", "maybe"])
def test_a_bad_boolean_stops_with_the_variable_name(monkeypatch, raw):
    monkeypatch.setenv("SOME_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="SOME_FLAG"):
        env.env_bool("SOME_FLAG", False)


def test_booleans_accept_the_usual_spellings(monkeypatch):
    for raw, expected in [("TRUE", True), ("yes", True), ("0", False), ("off", False)]:
        monkeypatch.setenv("SOME_FLAG", raw)
        assert env.env_bool("SOME_FLAG", not expected) is expected


def test_integers_rates_urls_and_timezones_are_checked(monkeypatch):
    monkeypatch.setenv("X", "ten")
    with pytest.raises(ImproperlyConfigured, match="integer"):
        env.env_int("X", 1)
    monkeypatch.setenv("X", "lots/forever")
    with pytest.raises(ImproperlyConfigured, match="rate"):
        env.env_rate("X", "10/min")
    monkeypatch.setenv("X", "mysql://db")
    with pytest.raises(ImproperlyConfigured, match="postgres"):
        env.env_url("X", None, schemes=["postgres", "sqlite"])
    monkeypatch.setenv("X", "Europe/Atlantis")
    with pytest.raises(ImproperlyConfigured, match="time zone"):
        env.env_timezone("X", "UTC")


def _manage(args: list[str], **extra_env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "EMAIL_"))}
    environ.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_bad_value_stops_start_up_with_a_clear_message():
    result = _manage(["check"], DJANGO_DEBUG="flase")
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr
    assert "Traceback" not in result.stderr


PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "followup.example.com",
    "EMAIL_HOST": "smtp.example.com",
}


def test_production_passes_the_deploy_check():
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_a_missing_secret_key():
    broken = {**PRODUCTION}
    del broken["DJANGO_SECRET_KEY"]
    result = _manage(["check"], **broken)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_refuses_debug():
    result = _manage(["check"], **PRODUCTION, DJANGO_DEBUG="true")
    assert result.returncode != 0
    assert "DEBUG cannot be true" in result.stderr


def test_responses_carry_a_strict_content_security_policy(client, db):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"


def test_tests_never_publish_to_a_broker_that_a_worker_consumes(settings):
    # A queued task for a test organization would reach the development or CI worker later.
    from followup.site.celery import app

    assert settings.CELERY_BROKER_URL == "memory://"
    assert app.connection_for_write().transport_cls == "memory"


def _base_url(**extra_env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "FOLLOWUP_BASE_URL"}
    environ.update(extra_env)
    result = subprocess.run(
        [sys.executable, "-c", "from followup.site import settings; print(settings.BASE_URL)"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_absolute_links_follow_the_port_make_run_serves_on():
    """Issue 11, defect 7: with FOLLOWUP_PORT set, links still pointed at :8000."""
    assert _base_url() == "http://127.0.0.1:8000"
    assert _base_url(FOLLOWUP_PORT="8123") == "http://127.0.0.1:8123"
    assert _base_url(FOLLOWUP_PORT="8123", FOLLOWUP_BASE_URL="https://fu.example.com/") == (
        "https://fu.example.com"
    )


def test_a_bad_port_stops_start_up_with_its_name():
    result = _manage(["check"], FOLLOWUP_PORT="eighty")
    assert result.returncode != 0 and "FOLLOWUP_PORT" in result.stderr


def test_no_code_or_template_hard_codes_the_development_port():
    offenders = []
    for folder in ("accounts", "engagements", "followup", "projects", "risks", "templates"):
        for path in (ROOT / folder).rglob("*"):
            readable = path.suffix in (".py", ".html", ".txt") and path.name != "settings.py"
            if readable and ":8000" in path.read_text(errors="ignore"):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
