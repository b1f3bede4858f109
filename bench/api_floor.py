"""The customer API list through the real stack, beside a raw WSGI + psycopg2 floor.

Starts, with the same gunicorn settings (2 sync workers, production settings, Redis):
the floor (``bench/floor_app.py``: the same SELECT of the same 50 rows, dumped as JSON),
this checkout, and optionally an older checkout (``--baseline-src``, e.g. a ``git archive``
of main) on the same database. Rounds of wrk are interleaved (floor, candidate, baseline,
floor, ...), so the load of a shared machine lands on all of them; the medians and the
ratio to the floor are printed, then the RSS of every web worker once it has served at
least 10,000 requests.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_h13_bench \\
        .venv/bin/python bench/api_floor.py --rounds 3 --seconds 10 [--baseline-src DIR] [--myday]
    .venv/bin/python bench/api_floor.py --profile 300   # cProfile of a warm worker

``--myday`` adds My day (rep 0's home page, 60 open follow-ups, a logged-in session cookie)
of every Django server to the interleaved rounds, with its HTML size, so its req/s is read
beside the API list's in the same run.

The data set is ``bench/engagements.py``'s (10,000 customers, 1,000,000 touchpoints);
it is built first when missing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _serve  # noqa: E402

PATH = "/api/v1/customers/"
MYDAY = "/o/bench/"
MEMORY_REQUESTS = 10_000
#: Servers listen on PORT_BASE + 1, + 2, + 3 (BENCH_PORT_BASE, e.g. a range of one's own).
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "18100"))
#: One secret for this run: the session made here must be valid on the servers.
SECRET_KEY = secrets.token_urlsafe(48) + "-api-floor"


def _myday_session() -> str:
    """A logged-in session of rep 0, who has (at least) 60 open follow-ups on My day."""
    from datetime import timedelta

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from accounts.models import Organization, User
    from engagements.models import Engagement
    from followup.engine import services as engine
    from followup.engine.models import FollowUp

    org = Organization.objects.get(slug="bench")
    rep = User.objects.get(email="rep0@bench.test")
    engagement = Engagement.objects.for_org(org).filter(owner=rep).order_by("pk").first()
    open_ones = FollowUp.objects.for_org(org).filter(owner=rep, status="open").count()
    now = timezone.now()
    for n in range(open_ones, 60):
        engine.followup_create(
            org=org,
            actor=rep,
            title=f"Call back about the renewal {n}",
            owner=rep,
            due_at=now + timedelta(hours=n - 30),
            subject=engagement,
        )
    session = SessionStore()
    session[SESSION_KEY] = str(rep.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = rep.get_session_auth_hash()
    session.create()
    return str(session.session_key)


def _prepare(url: str) -> tuple[str, str]:
    """Build the data set if missing; an admin key of "bench" and the list's SELECT."""
    import runpy

    os.environ["DJANGO_SECRET_KEY"] = SECRET_KEY

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


def profile(url: str, requests: int, myday: bool = False) -> None:
    """cProfile of ``requests`` warm requests through Django's WSGI handler, production
    settings, in a fresh process (the printout is the reading the report quotes); of My day
    instead of the API list with ``myday``."""
    key, _sql = _prepare(url)
    path, auth = PATH, f'"HTTP_AUTHORIZATION": "Bearer {key}"'
    if myday:
        path, auth = MYDAY, f'"HTTP_COOKIE": "sessionid={_myday_session()}"'
    code = f"""
import cProfile, io, pstats, sys
sys.path.insert(0, {str(ROOT)!r})
import django
django.setup()
from django.core.handlers.wsgi import WSGIHandler
app = WSGIHandler()
def call():
    environ = {{"REQUEST_METHOD": "GET", "PATH_INFO": {path!r}, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
        {auth}}}
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
stats.sort_stats("cumulative").print_stats(70)
stats.sort_stats("tottime").print_stats(25)
"""
    env = _serve.production_env(
        url, DJANGO_SETTINGS_MODULE="followup.site.settings", DJANGO_SECRET_KEY=SECRET_KEY
    )
    if myday:
        _collectstatic(env, ROOT)
    subprocess.run([_serve.python(), "-c", code], env=env, cwd=ROOT, check=True)


def _collectstatic(env: dict[str, str], source: Path) -> None:
    """Production pages need the hashed manifest of each checkout."""
    subprocess.run(
        [_serve.python(), "manage.py", "collectstatic", "--noinput", "-v0"],
        env={**env, "PYTHONPATH": str(source)},
        cwd=source,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--baseline-src", type=Path, help="an older checkout to compare")
    parser.add_argument("--profile", type=int, metavar="N", help="profile N requests instead")
    parser.add_argument("--myday", action="store_true", help="also My day, in the same rounds")
    parser.add_argument(
        "--memory-requests",
        type=int,
        default=MEMORY_REQUESTS,
        help="requests each server serves before its worker RSS is read",
    )
    args = parser.parse_args()
    url = _serve.DEFAULT_URL
    if args.profile:
        profile(url, args.profile, myday=args.myday)
        return
    key, sql = _prepare(url)
    session = _myday_session() if args.myday else ""
    sql_file = Path(tempfile.mkdtemp(prefix="api-floor-")) / "select.sql"
    sql_file.write_text(sql)
    env = _serve.production_env(
        url, FLOOR_DATABASE_URL=url, FLOOR_SQL_FILE=str(sql_file), DJANGO_SECRET_KEY=SECRET_KEY
    )
    for source in [ROOT, args.baseline_src] if args.myday else []:
        if source is not None:
            _collectstatic(env, source)
    servers = [
        _serve.start("floor", "bench.floor_app:application", PORT_BASE + 1, env),
        _serve.start("candidate", "followup.site.wsgi:application", PORT_BASE + 2, env),
    ]
    if args.baseline_src:
        servers.append(
            _serve.start(
                "baseline",
                "followup.site.wsgi:application",
                PORT_BASE + 3,
                env,
                chdir=args.baseline_src,
            )
        )
    headers = {"Authorization": f"Bearer {key}"}
    cookie = {"Cookie": f"sessionid={session}"}
    # (label, server, path, headers, per-target rounds): the API list of every server, then
    # My day of every Django server, all interleaved round after round.
    targets = [(server.name, server, PATH, headers, server.rounds) for server in servers]
    myday_rounds: dict[str, list[dict[str, float]]] = {}
    if args.myday:
        for server in servers[1:]:
            myday_rounds[server.name] = []
            label = f"{server.name}:myday"
            targets.append((label, server, MYDAY, cookie, myday_rounds[server.name]))
            size = len(_serve.fetch(server.base + MYDAY, cookie))
            print(f"My day HTML of {server.name}: {size:,} bytes", flush=True)
    try:
        for _label, server, path, extra, _rounds in targets:  # warm: imports, connections, caches
            _serve.wrk(server.base + path, connections=2, seconds=2, headers=extra)
        for number in range(args.rounds):
            for label, server, path, extra, rounds in targets:
                result = _serve.wrk(
                    server.base + path,
                    connections=args.connections,
                    seconds=args.seconds,
                    headers=extra,
                )
                rounds.append(result)
                server.requests += int(result["requests"])
                print(
                    f"round {number + 1} {label:<16} {result['rps']:8.1f} req/s  "
                    f"p50 {result['p50']:7.2f} ms  p99 {result['p99']:7.2f} ms  "
                    f"errors {int(result['errors'])}",
                    flush=True,
                )
        for server in servers:
            if server.name == "baseline":
                continue  # read after its rounds: 10,000 requests of the old code take long
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
        for name, rounds in myday_rounds.items():
            rps = statistics.median(r["rps"] for r in rounds)
            p50 = statistics.median(r["p50"] for r in rounds)
            p99 = statistics.median(r["p99"] for r in rounds)
            same = next(server for server in servers if server.name == name)
            api = statistics.median(r["rps"] for r in same.rounds)
            print(
                f"{name + ':myday':<10} {rps:8.1f} {p50:8.2f} {p99:8.2f} {rps / floor:8.3f}  "
                f"(My day / API list of the same server: {rps / api:.2f})"
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
