"""The schema fuzzer in CI (issue 12, part 3): schemathesis runs every check against the
live schema and a live server, with a throw-away organization and an owner API key, and
the suite fails on any 5xx or schema violation.

Bounded to fit CI on two cores: ``MAX_EXAMPLES`` generated cases per operation in the
fuzzing phase, then the stateful phase; deterministic generation, no shrinking. One
setting is explained in ``schemathesis.toml`` below: a positive case may be refused with
400 because it names objects that do not exist (a random ``owner`` id is a valid UUID but
no member); every other check, schema conformance of each response included, runs as is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.roles import Role
from tests.factories import MembershipFactory, OrganizationFactory, make_api_key

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("FOLLOWUP_FUZZ_EXAMPLES", "8"))
CONFIG = """
# Written by tests/test_schemathesis.py.
[checks.positive_data_acceptance]
# A schema-valid body may still name objects that do not exist (a random UUID as owner):
# that is a 400 naming the field, not a rejected valid request.
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "412", "422", "429"]
"""


def _st() -> str | None:
    candidate = Path(sys.executable).with_name("st")
    return str(candidate) if candidate.exists() else shutil.which("st")


def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    live_server, settings, tmp_path
):
    st = _st()
    if st is None:
        pytest.fail("schemathesis is not installed (requirements-dev.txt)")
    # The fuzzer sends thousands of requests with one key: the per-key budget is not what
    # is tested here (it would answer 429 and leave the operations untested).
    settings.FOLLOWUP_API_RATE = "1000000/min"
    # Its authentication checks send bad keys on purpose; past the per-address limit they
    # would get 429 (tests/test_attacks.py tests that) instead of the 401 checked here.
    settings.FOLLOWUP_API_AUTH_FAILURES = 1000000
    org = OrganizationFactory(name="Fuzz", slug="fuzz")
    MembershipFactory(organization=org, role=Role.OWNER, user__email="fuzz@fuzz.test")
    _key, plain = make_api_key(org, Role.OWNER, name="fuzzer")
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    result = subprocess.run(
        [
            st,
            "run",
            f"{live_server.url}/api/schema/?format=json",
            "--url",
            live_server.url,
            "--header",
            f"Authorization: Bearer {plain}",
            "--checks",
            "all",
            "--phases",
            "examples,fuzzing,stateful",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-deterministic",
            "--no-shrink",
            # One worker: CPython 3.11's ast.parse is not thread-safe, and Hypothesis calls it
            # while describing strategies ("AST constructor recursion depth mismatch").
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--max-failures",
            "50",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    report = result.stdout + result.stderr
    failures = report.split("=== FAILURES ===", 1)[-1] if "=== FAILURES ===" in report else report
    assert result.returncode == 0, failures[:30000]
