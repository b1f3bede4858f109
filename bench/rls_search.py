"""Customer search under row-level security: the runtime role against the owner, same run.

Under RLS the policy qual runs first and a user qual that is not leakproof (``UPPER(name)
LIKE '%...%'``, what ``icontains`` becomes) cannot be pushed below it, so the trigram index
``customer_name_trgm`` cannot serve the search; the organization index narrows first and
the pattern filters that organization's rows. This measures by how much, on
``--customers`` customers in each of two organizations (own scratch tables' rows in the
database of ``BENCH_DATABASE_URL``, removed afterwards):

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_rls \\
    BENCH_RUNTIME_ROLE=followup_app .venv/bin/python bench/rls_search.py --customers 5000

Prints the median time of the search as the owner (no RLS, with ``organization_id =``
in the query, as the app writes it) and as the runtime role (RLS), and their ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid

import psycopg2

SEARCH = (
    "SELECT id, name FROM engagements_customer WHERE organization_id = %s "
    "AND UPPER(name::text) LIKE UPPER(%s) ORDER BY name LIMIT 20"
)


def timed(cursor, prefix: str, org: str, pattern: str, repeat: int) -> tuple[float, int]:
    runs = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        cursor.execute(prefix + SEARCH, [org, pattern])
        rows = len(cursor.fetchall())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = os.environ["BENCH_DATABASE_URL"]
    role = os.environ.get("BENCH_RUNTIME_ROLE", "followup_app")
    conn = psycopg2.connect(url)
    conn.autocommit = True
    orgs = [str(uuid.uuid4()) for _ in range(2)]
    with conn.cursor() as cur:
        for n, org in enumerate(orgs):
            cur.execute(
                "INSERT INTO accounts_organization (id, name, slug, timezone, settings, "
                "created_at) VALUES (%s, %s, %s, 'UTC', '{}', now())",
                [org, f"Bench {n}", f"bench-rls-{org[:8]}"],
            )
            cur.execute(
                "INSERT INTO engagements_customer (id, organization_id, name, created_at, "
                "updated_at, version, industry, tier, status, currency, notes, health_level) "
                "SELECT gen_random_uuid(), %s, 'Customer ' || md5(i::text), now(), now(), 1, "
                "'', 'standard', 'active', 'EUR', '', '' FROM generate_series(1, %s) i",
                [org, args.customers],
            )
        cur.execute("ANALYZE engagements_customer")
        try:
            pattern = "%ab1%"
            owner, owner_rows = timed(cur, "", orgs[0], pattern, args.repeat)
            cur.execute(f'SET ROLE "{role}"')
            prefix = f"SELECT set_config('followup.org_id', '{orgs[0]}', false); "
            runtime, runtime_rows = timed(cur, prefix, orgs[0], pattern, args.repeat)
            cur.execute(prefix + "EXPLAIN " + SEARCH, [orgs[0], pattern])
            plan = "\n".join(r[0] for r in cur.fetchall())
            cur.execute("RESET ROLE")
            assert owner_rows == runtime_rows, (owner_rows, runtime_rows)
            print(f"{args.customers} customers in each of 2 organizations, pattern {pattern!r}")
            print(f"owner (no RLS):       {owner * 1000:.2f} ms  ({owner_rows} rows)")
            print(f"runtime role (RLS):   {runtime * 1000:.2f} ms  ({runtime_rows} rows)")
            print(f"ratio RLS / no RLS:   {runtime / owner:.2f}")
            print("plan under RLS:\n" + plan)
        finally:
            cur.execute("RESET ROLE")
            for org in orgs:
                cur.execute("DELETE FROM engagements_customer WHERE organization_id = %s", [org])
                cur.execute("DELETE FROM accounts_organization WHERE id = %s", [org])
    conn.close()


if __name__ == "__main__":
    main()
