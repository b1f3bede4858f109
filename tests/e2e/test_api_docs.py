"""The API docs show the whole schema (issue 11): Swagger UI renders the ~80 paths as the
page is scrolled, so a test that only waits for the first operations would not notice the
last resources missing. This one scrolls through /api/docs/ and checks every tag of the
schema and every operation of the last tags, with no foreign request and no console error."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SEEN = """() => ({
  tags: Array.from(document.querySelectorAll('.opblock-tag[data-tag]'), t => t.dataset.tag),
  operations: Array.from(document.querySelectorAll('.opblock'), block => {
    const method = block.querySelector('.opblock-summary-method');
    const path = block.querySelector('.opblock-summary-path');
    return [method ? method.textContent.trim().toLowerCase() : '',
            path ? (path.dataset.path || path.textContent.trim()) : ''];
  }),
  bottom: window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2,
})"""
METHODS = {"get", "post", "put", "patch", "delete"}


def _schema(page, base_url: str) -> dict:
    response = page.request.get(
        base_url + "/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}
    )
    assert response.ok
    return json.loads(response.text())


def test_the_api_docs_render_every_resource_while_scrolling(live_server, page, console_errors):
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    schema = _schema(page, live_server.url)
    by_tag: dict[str, set[tuple[str, str]]] = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                for tag in operation.get("tags", ["default"]):
                    by_tag.setdefault(tag, set()).add((method, path))
    assert len(schema["paths"]) > 60 and len(by_tag) > 10  # the whole API, not a stub

    page.goto(live_server.url + "/api/docs/")
    page.locator(".opblock-summary-path").first.wait_for()
    tags: set[str] = set()
    operations: set[tuple[str, str]] = set()
    for _step in range(400):
        seen = page.evaluate(SEEN)
        tags.update(seen["tags"])
        operations.update((method, path) for method, path in seen["operations"])
        if seen["bottom"] and set(by_tag) <= tags:
            break
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(40)

    assert set(by_tag) - tags == set()
    order = list(by_tag)  # the schema's order is the page's order
    for tag in order[-3:]:  # the last resources rendered their operations too
        assert by_tag[tag] - operations == set(), tag
    assert set().union(*by_tag.values()) - operations == set()  # and every other one
    foreign = [url for url in requests if not url.startswith((live_server.url, "data:"))]
    assert foreign == []
    console_errors.assert_none()
