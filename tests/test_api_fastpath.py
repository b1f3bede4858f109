"""ApiFastPath: calls of /api/v1/ skip the middleware only pages need (session, user,
messages, htmx, CSP) and keep the rest (language, security headers, problem+json)."""

from __future__ import annotations

from django.contrib.sessions.backends.base import SessionBase

from tests.conftest import api_client
from tests.factories import make_api_key


def test_an_api_call_skips_what_only_pages_need(org, monkeypatch):
    touched = []
    monkeypatch.setattr(SessionBase, "__init__", lambda self, *a, **k: touched.append(1))
    client = api_client(make_api_key(org)[1])
    client.cookies["sessionid"] = "a-browser-session"
    response = client.get("/api/v1/members/")
    assert response.status_code == 200
    assert touched == []  # no session was opened for it
    assert "Content-Security-Policy" not in response
    assert response["X-Frame-Options"] == "DENY"  # the security headers stay
    assert "Set-Cookie" not in response


def test_an_api_call_still_speaks_the_callers_language(org):
    client = api_client("fu_nosuchkey_" + "x" * 20)
    response = client.get("/api/v1/members/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 401
    english = api_client("fu_nosuchkey_" + "x" * 20).get("/api/v1/members/").json()["detail"]
    assert response.json()["detail"] != english


def test_pages_and_the_api_documentation_keep_every_middleware(client, db):
    for path in ("/accounts/login/", "/api/docs/"):
        response = client.get(path)
        assert "Content-Security-Policy" in response, path
