"""The customer API list through the real stack, beside a raw WSGI + psycopg2 floor.

Starts, with the same gunicorn settings (2 sync workers, production settings, Redis):
the floor (``bench/floor_app.py``: the same SELECT of the same 50 rows, dumped as JSON),
this checkout, and optionally an older checkout (``--baseline-src``, e.g. a ``git archive``
of main) on the same database. Rounds of wrk are interleaved (floor, candidate, baseline,
floor, ...), so the load of a shared machine lands on all of them; the medians and the
ratio to the floor are printed, then the RSS of every web worker once it has served at
least 10,000 requests.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_h13_bench \\
        .venv/bin/python bench/api_floor.py --rounds 3 --seconds 10 [--baseline-src DIR]
    .venv/bin/python bench/api_floor.py --profile 300   # cProfile of a warm worker

The data set is ``bench/engagements.py``'s (10,000 customers, 1,000,000 touchpoints);
it is built first when missing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _serve  # noqa: E402

PATH = "/api/v1/customers/"
MEMORY_REQUESTS = 10_000


def _prepare(url: str) -> tuple[str, str]:
    """Build the data set if missing; an admin key of "bench" and the list's SELECT."""
    import runpy

    bench = runpy.run_path(str(ROOT / "bench" / "engagements.py"), run_name="bench_data")
    bench["_ensure_database"](url)
    bench["_setup"](url)
    bench["build"](False)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from accounts.models import Organization
    from accounts.roles import Role
    from accounts.services import api_key_create

    org = Organization.objects.get(slug="bench")
    key = api_key_create(
        org=org, name="api floor bench", role=Role.ADMIN, created_by=None, granter_role=None
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plain}")
    with CaptureQueriesContext(connection) as queries:
        response = api.get(PATH)
    assert response.status_code == 200, response.content[:300]
    selects = [q["sql"] for q in queries.captured_queries if '"engagements_customer"' in q["sql"]]
    return key.plain, selects[-1]


def profile(url: str, requests: int) -> None:
    """cProfile of ``requests`` warm requests through Django's WSGI handler, production
    settings, in a fresh process (the printout is the reading the report quotes)."""
    key, _sql = _prepare(url)
    code = f"""
import cProfile, io, pstats, sys
sys.path.insert(0, {str(ROOT)!r})
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
app = WSGIHandler()
def call():
    environ = {{"REQUEST_METHOD": "GET", "PATH_INFO": {PATH!r}, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        "HTTP_AUTHORIZATION": "Bearer {key}"}}
    status = []
    body = b"".join(app(environ, lambda s, h, *a: status.append(s)))
    assert status[0].startswith("200"), (status, body[:200])
for _ in range(50):
    call()
profiler = cProfile.Profile()
profiler.enable()
for _ in range({requests}):
    call()
profiler.disable()
stats = pstats.Stats(profiler)
total = stats.total_tt
print(f"{{{requests}}} requests, {{total / {requests} * 1000:.2f}} ms each (profiled)")
stats.sort_stats("cumulative").print_stats(45)
"""
    env = _serve.production_env(url, DJANGO_SETTINGS_MODULE="followup.site.settings")
    subprocess.run([_serve.python(), "-c", code], env=env, cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--baseline-src", type=Path, help="an older checkout to compare")
    parser.add_argument("--profile", type=int, metavar="N", help="profile N requests instead")
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=MEMORY_REQUESTS,
        help="requests each server serves before its worker RSS is read",
    )
    args = parser.parse_args()
    url = _serve.DEFAULT_URL
    if args.profile:
        profile(url, args.profile)
        return
    key, sql = _prepare(url)
    sql_file = Path(tempfile.mkdtemp(prefix="api-floor-")) / "select.sql"
    sql_file.write_text(sql)
    env = _serve.production_env(url, FLOOR_DATABASE_URL=url, FLOOR_SQL_FILE=str(sql_file))
    servers = [
        _serve.start("floor", "bench.floor_app:application", 18101, env),
        _serve.start("candidate", "followup.site.wsgi:application", 18102, env),
    ]
    if args.baseline_src:
        servers.append(
            _serve.start(
                "baseline", "followup.site.wsgi:application", 18103, env, chdir=args.baseline_src
            )
        )
    headers = {"Authorization": f"Bearer {key}"}
    try:
        for server in servers:  # warm: imports, connections, caches
            _serve.wrk(server.base + PATH, connections=2, seconds=2, headers=headers)
        for number in range(args.rounds):
            for server in servers:
                result = _serve.wrk(
                    server.base + PATH,
                    connections=args.connections,
                    seconds=args.seconds,
                    headers=headers,
                )
                server.rounds.append(result)
                server.requests += int(result["requests"])
                print(
                    f"round {number + 1} {server.name:<9} {result['rps']:8.1f} req/s  "
                    f"p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms  "
                    f"errors {int(result['errors'])}",
                    flush=True,
                )
        for server in servers:
            while server.requests < args.memory_requests:
                extra = _serve.wrk(server.base + PATH, connections=4, seconds=5, headers=headers)
                server.requests += int(extra["requests"])
        floor = statistics.median(r["rps"] for r in servers[0].rounds)
        print(f"\n{'server':<10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'floor x':>8}  RSS MB")
        for server in servers:
            rps = statistics.median(r["rps"] for r in server.rounds)
            p50 = statistics.median(r["p50"] for r in server.rounds)
            p99 = statistics.median(r["p99"] for r in server.rounds)
            rss = ", ".join(f"{size:.0f}" for size in server.worker_rss_mb())
            print(
                f"{server.name:<10} {rps:8.1f} {p50:8.2f} {p99:8.2f} {rps / floor:8.3f}  "
                f"{rss} (after {server.requests:,} requests)"
            )
        print(
            f"\n{args.connections} connections, {args.rounds} interleaved rounds of "
            f"{args.seconds} s, {_serve.WORKERS} sync gunicorn workers each, "
            f"{os.cpu_count()} CPUs shared with other work"
        )
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
