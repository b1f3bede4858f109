"""The second lock: PostgreSQL row-level security (``accounts/rls.py``, ``rls_schema.py``).

These run on PostgreSQL as the runtime role (``.ci/run``: ``DATABASE_URL`` is
``followup_app``, ``MIGRATE_DATABASE_URL`` the owner). SQLite has no row-level security: they
are skipped there, and the first lock's tests (``tests/test_cross_tenant.py``) run on both.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError

from accounts import rls, rls_schema
from accounts.tenancy import TenantQuerySet
from engagements.models import Customer
from followup.site.celery import app
from tests.engagements.factories import make_customer

ROOT = Path(__file__).resolve().parents[2]


def _runtime_role_or_skip() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row-level security (the first lock's tests run there)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        (superuser,) = cursor.fetchone()
    if superuser:
        reason = (
            "connected as a superuser, which row-level security does not bind: set "
            "DATABASE_URL to the runtime role and MIGRATE_DATABASE_URL to the owner (.ci/run)"
        )
        if os.environ.get("FOLLOWUP_REQUIRE_RLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def runtime(db):
    _runtime_role_or_skip()


def _raw_count(table: str) -> int:
    # Unquoted table name: a hand-written query, as a forgotten scope would be.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]


# --- Policies -------------------------------------------------------------------------------


def test_every_tenant_table_has_row_level_security_enabled_forced_and_the_policy(runtime):
    tables = {t.table: t for t in rls_schema.tenant_tables()}
    with connection.cursor() as cursor:
        # Every table with an organization_id column is found by the registry, none missed.
        cursor.execute(
            "SELECT table_name FROM information_schema.columns WHERE table_schema = "
            "current_schema() AND column_name = 'organization_id'"
        )
        with_column = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
            "array_remove(array_agg(p.polname), NULL) FROM pg_class c "
            "LEFT JOIN pg_policy p ON p.polrelid = c.oid "
            "WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' "
            "GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity"
        )
        state = {name: (enabled, forced, set(policies)) for name, enabled, forced, *policies in [
            (r[0], r[1], r[2], *r[3]) for r in cursor.fetchall()
        ]}  # fmt: skip
    assert with_column <= set(tables), with_column - set(tables)
    # The many-to-many tables of tenant models are covered through their parent.
    assert {"engagements_touchpoint_contacts", "engagements_engagement_team"} <= set(tables)
    missing = [
        name
        for name in tables
        if state[name][:2] != (True, True) or rls_schema.POLICY not in state[name][2]
    ]
    assert missing == []
    # The organizations themselves are readable before one is known (slug lookups).
    assert state["accounts_organization"][0] is False


def test_the_runtime_role_is_neither_superuser_nor_bypasses_row_level_security(runtime):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles "
            "WHERE rolname = session_user"
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute(
            "SELECT tableowner = session_user FROM pg_tables WHERE tablename = %s",
            ["engagements_customer"],
        )
        assert cursor.fetchone() == (False,)


# --- The lock holds when a query forgets its scope ------------------------------------------


@pytest.fixture
def two_orgs_of_customers(runtime, org, other_org):
    mine = [make_customer(org, name=f"Ours {n}") for n in range(2)]
    theirs = [make_customer(other_org, name=f"Theirs {n}") for n in range(3)]
    return mine, theirs


@pytest.fixture
def forgotten_scope(monkeypatch):
    """Every ``for_org(org)`` forgets its filter: only the database still scopes."""
    monkeypatch.setattr(TenantQuerySet, "for_org", lambda self, org: self.all())


def test_an_unscoped_query_in_a_page_of_org_a_shows_only_a_s_rows(
    two_orgs_of_customers, forgotten_scope, member_client
):
    page = member_client.get("/o/acme/customers/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Ours 0" in body and "Ours 1" in body
    assert "Theirs" not in body


def test_an_unscoped_query_in_an_api_request_of_org_a_returns_only_a_s_rows(
    two_orgs_of_customers, forgotten_scope, api
):
    response = api.get("/api/v1/customers/")
    assert response.status_code == 200
    names = sorted(row["name"] for row in response.json()["results"])
    assert names == ["Ours 0", "Ours 1"]


def test_raw_sql_without_a_tenant_sees_no_rows_and_may_not_insert(two_orgs_of_customers, org):
    assert _raw_count("engagements_customer") == 5  # the test's own bypass sees both
    with rls.no_context():
        assert _raw_count("engagements_customer") == 0
        assert _raw_count("engagements_touchpoint_contacts") == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():  # noqa: SIM117
            with connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO engagements_customer (id, organization_id, name, created_at, "
                    "updated_at, version, industry, tier, status, currency, notes, "
                    "health_level) VALUES (gen_random_uuid(), %s, 'Sneaked', now(), now(), 1, "
                    "'', 'standard', 'active', 'EUR', '', '')",
                    [str(org.pk)],
                )
    with rls.org_context(org):
        assert _raw_count("engagements_customer") == 2


def test_a_row_of_another_organization_cannot_be_written_inside_an_organizations_context(
    two_orgs_of_customers, other_org, org
):
    _mine, theirs = two_orgs_of_customers
    with rls.org_context(org):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE engagements_customer SET name = 'Taken' WHERE id = %s", [theirs[0].pk]
            )
            assert cursor.rowcount == 0  # invisible, so untouched
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Customer.objects.create(organization=other_org, name="Planted")
    assert Customer.objects.for_org(other_org).filter(name__in=["Taken", "Planted"]).count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_tenant_setting_and_the_bypass_die_with_their_transaction(org, other_org):
    _runtime_role_or_skip()
    make_customer(org)
    raw = connection.connection  # no prefix: what the next transaction on the connection sees
    with rls.org_context(org):
        assert _raw_count("engagements_customer") == 1
    with raw.cursor() as cursor:
        cursor.execute("SELECT current_setting('followup.org_id', true), current_user")
        setting, user = cursor.fetchone()
        assert setting in ("", None)
        cursor.execute("SELECT count(*) FROM engagements_customer")
        assert cursor.fetchone() == (0,)
    with rls.cross_tenant("tests"):
        assert _raw_count("engagements_customer") == 1
    with raw.cursor() as cursor:
        cursor.execute("SELECT current_user, count(*) FROM engagements_customer GROUP BY 1")
        assert cursor.fetchall() == []  # back to the runtime role, which sees nothing
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == (user,)
    with transaction.atomic(), rls.org_context(other_org):
        # Inside one transaction each statement carries its own setting.
        assert _raw_count("engagements_customer") == 0
        with rls.org_context(org):
            assert _raw_count("engagements_customer") == 1
        assert _raw_count("engagements_customer") == 0


def test_statements_keep_their_own_percent_signs_and_many_parameter_sets(
    two_orgs_of_customers, org
):
    with rls.org_context(org), connection.cursor() as cursor:
        cursor.execute("SELECT '100%'")  # no parameters: the prefix adds no interpolation
        assert cursor.fetchone() == ("100%",)
        cursor.executemany(
            "UPDATE engagements_customer SET notes = %s WHERE name = %s",
            [("50% done", "Ours 0"), ("all", "Theirs 0")],
        )
    assert Customer.objects.for_org(org).get(name="Ours 0").notes == "50% done"
    # Iterators use client-side cursors (a DECLARE could not carry the prefix).
    with rls.org_context(org):
        assert len(list(Customer.objects.dangerously_unscoped().iterator(chunk_size=1))) == 2


# --- Tasks ----------------------------------------------------------------------------------


@app.task(name="tests.accounts.test_rls.seen_by_task")
def seen_by_task(org_id: str | None = None) -> tuple[str | None, str | None, int]:
    return rls.current_org_id(), rls.bypass_reason(), _raw_count("engagements_customer")


def test_a_task_runs_as_its_org_id_and_a_tick_without_one_sees_nothing(two_orgs_of_customers, org):
    assert seen_by_task.apply(args=(str(org.pk),)).get() == (str(org.pk), None, 2)
    assert seen_by_task.apply(kwargs={"org_id": str(org.pk)}).get() == (str(org.pk), None, 2)
    # Whatever the caller had (here the tests' bypass), a task without org_id starts with none.
    assert seen_by_task.apply().get() == (None, None, 0)


# --- The named bypass path ------------------------------------------------------------------


def test_an_unlisted_bypass_reason_raises():
    with pytest.raises(rls.UnknownBypassReason), rls.cross_tenant("because I can"):
        pass
    with pytest.raises(rls.UnknownBypassReason):
        Customer.objects.dangerously_unscoped().across_orgs("because I can")


def test_the_innermost_context_wins(org):
    with rls.cross_tenant("claims"):
        assert (rls.current_org_id(), rls.bypass_reason()) == (None, "claims")
        with rls.org_context(org):
            assert (rls.current_org_id(), rls.bypass_reason()) == (str(org.pk), None)
            with rls.cross_tenant("outbox relay"):
                assert (rls.current_org_id(), rls.bypass_reason()) == (None, "outbox relay")
            assert rls.current_org_id() == str(org.pk)
        assert rls.bypass_reason() == "claims"


def test_every_bypass_reason_in_the_code_is_listed_and_every_listed_one_is_used():
    used: set[str] = set()
    pattern = re.compile(r"""(?:cross_tenant|across_orgs)\(\s*["']([^"']+)["']""")
    for folder in ("accounts", "followup", "engagements", "projects", "risks"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == "rls.py":
                continue  # the definitions and their docstring
            used.update(pattern.findall(path.read_text()))
    assert used - set(rls.BYPASS_REASONS) == set()
    assert set(rls.BYPASS_REASONS) - used - {"tests"} == set()


def test_a_statement_without_any_context_is_reported_in_strict_mode(runtime, org):
    make_customer(org)
    with rls.no_context(), pytest.raises(rls.MissingTenantContext):
        list(Customer.objects.dangerously_unscoped())
