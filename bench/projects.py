"""Project follow-up at scale: each figure beside a reference measured in the same run.

    .venv/bin/python bench/projects.py --section schedule [--rounds 15] [--seed 20270104]
    .venv/bin/python bench/projects.py --section gantt [--rebuild]
    .venv/bin/python bench/projects.py --section api [--rebuild]
    .venv/bin/python bench/projects.py --section earned_value [--rebuild] [--rounds 10]
    .venv/bin/python bench/projects.py --section resource_load [--rounds 15]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_bench_x ...

Run by hand, never by CI. ``schedule`` needs no database and no Django settings: it times
``projects.calc`` on data built in memory. ``gantt`` and ``api`` build their projects once in
their own PostgreSQL database (``BENCH_DATABASE_URL``, default ``followup_bench_p``; never the
test database) with the same generator as ``schedule``, rows written in bulk and the schedule
then computed and stored by the real service (``projects.services.project_reschedule``).

Sections (one function each, ``SECTIONS`` below; earned value has its own script):

- ``schedule``: a random but realistic project of 10,000 work items (a four-level WBS of 584
  summaries over 9,416 work packages and milestones) and 20,000 links (mostly FS, some SS, FF,
  SF, lags and leads, a few into and out of summaries, some start-no-earlier-than and actual
  dates) on a Monday-Friday calendar with holidays. ``projects.calc.scheduling.compute``
  (validation, forward and backward passes, free float, dates out) is timed beside networkx
  on the equivalent point graph, built beforehand: ``nx.dag_longest_path_length`` plus a
  backward pass over ``nx.topological_sort``. Rounds are interleaved so that both see the
  same machine state; p50 / p95 of each and the ratio are printed, and both results are
  checked to agree on the project's length.
- ``gantt``: the Gantt page (``/o/<org>/projects/<id>/gantt/``, default week zoom, and the
  day zoom) of a project of 2,000 work items and about 4,000 links, as a signed-in manager,
  beside the same page of a 20-item project: p50 / p95 and queries. Goal: under a second.
- ``api``: the work-item list API (``/api/v1/work-items/?project=<id>``, 50 and 200 per page,
  and the critical items) of a project of 10,000 work items and 20,000 links, beside a
  20-item project; and one ``PATCH`` of a duration there, which recomputes and stores the
  whole schedule in the request (the cost of a write on a big plan).
- ``earned_value``: a baselined project of about 10,000 work packages with three dated
  progress records each and 100,000 cost entries over a year: the earned-value API at a
  status date (figures and the weekly series), its per-work-package drill-down (a cursor
  page of 50 in WBS order and by SV, a page of 500 by CV, and the drill-down page by CV),
  and the project page with the S-curve, beside a 20-item project: p50 / p95 and queries.
- ``resource_load``: the organization-wide resource load (page and API) of 200 people over
  26 weeks, across 10 active projects of 120 scheduled work packages (1,000 allocations) and
  2,600 touchpoints with effort, beside the same over 4 weeks: p50 / p95 and queries. Pages
  of 25 people (the first and the eighth), only the over-allocated, the suggestions asked
  for (the htmx swap, the API's ``suggest=true``) and the API at 200 people a page.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from projects.calc.calendar import Axis, WorkCalendar  # noqa: E402
from projects.calc.scheduling import Item, Link, compute  # noqa: E402

START = date(2027, 1, 4)  # a Monday


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", choices=sorted(SECTIONS), default="schedule")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--seed", type=int, default=20270104)
    parser.add_argument("--rebuild", action="store_true", help="build the projects again")
    return parser.parse_args()


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(function: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


# --- schedule --------------------------------------------------------------------------------


def holidays_2027_2030() -> frozenset[date]:
    fixed = [(1, 1), (5, 1), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25), (12, 26)]
    return frozenset(date(y, m, d) for y in range(2027, 2031) for m, d in fixed)


def build_project(
    rng: random.Random, items_wanted: int = 10_000, links_wanted: int = 20_000, fan: int = 8
) -> tuple[list[Item], list[Link]]:
    """A four-level WBS (``fan`` phases x ``fan`` deliverables x ``fan`` packages, then work
    packages; 8 for the 10,000-item plan) with links that mostly follow the work's order and
    stay close, as real plans do."""
    summaries: list[tuple[str, str | None]] = []
    groups: list[str] = []
    per_phase = fan * fan  # packages per phase
    for p in range(fan):
        phase = f"P{p}"
        summaries.append((phase, None))
        for d in range(fan):
            deliverable = f"{phase}.D{d}"
            summaries.append((deliverable, phase))
            for g in range(fan):
                group = f"{deliverable}.G{g}"
                summaries.append((group, deliverable))
                groups.append(group)
    leaves_wanted = items_wanted - len(summaries)
    items = [Item(sid, parent=parent) for sid, parent in summaries]
    leaves: list[str] = []  # in the order of the work
    leaf_group: dict[str, int] = {}
    for n in range(leaves_wanted):
        g = n * len(groups) // leaves_wanted
        leaf = f"W{n}"
        milestone = rng.random() < 0.04
        snet = START + timedelta(days=rng.randint(0, 400)) if rng.random() < 0.02 else None
        actual_start = actual_finish = None
        if n < leaves_wanted // 20:  # the first 5 % of the work has started
            actual_start = START + timedelta(days=n // 8)
            if rng.random() < 0.7:
                actual_finish = actual_start + timedelta(days=rng.randint(0, 10))
        items.append(
            Item(
                leaf,
                duration=0 if milestone else rng.randint(1, 20),
                parent=groups[g],
                start_no_earlier_than=snet,
                actual_start=actual_start,
                actual_finish=actual_finish,
            )
        )
        leaves.append(leaf)
        leaf_group[leaf] = g

    seen: set[tuple[str, str]] = set()
    links: list[Link] = []

    def add(pred: str, succ: str, kind: str, lag: int) -> None:
        if (pred, succ) not in seen:
            seen.add((pred, succ))
            links.append(Link(pred, succ, kind, lag))

    def random_type_and_lag() -> tuple[str, int]:
        roll = rng.random()
        kind = "FS" if roll < 0.85 else "SS" if roll < 0.92 else "FF" if roll < 0.98 else "SF"
        roll = rng.random()
        lag = 0 if roll < 0.7 else rng.randint(1, 5) if roll < 0.9 else -rng.randint(1, 3)
        return kind, lag

    members: list[list[str]] = [[] for _ in groups]
    for leaf in leaves:
        members[leaf_group[leaf]].append(leaf)
    phase_of_group = [g // per_phase for g in range(len(groups))]
    # Each package runs three lanes of work in sequence (FS), with a few more links inside.
    for group in members:
        for k in range(3, len(group)):
            add(group[k - 3], group[k], "FS", 0)
    # A few links between summaries, an earlier block to a later one, and between a work
    # package and a later package: into summaries FS/SS, out of summaries FS/FF (the types
    # the point graph of the reference can express).
    for _ in range(links_wanted // 100):
        a, b = sorted(rng.sample(range(len(groups)), 2))
        if phase_of_group[a] == phase_of_group[b] and b < len(groups) - per_phase:
            b += per_phase  # to the next phase, so the phases stay in sequence
        if rng.random() < 0.5:
            add(groups[a], groups[b], rng.choice(["FS", "FS", "FS", "SS"]), rng.choice([0, 0, 2]))
        else:
            add(rng.choice(members[a]), groups[b], "FS", 0)
    # Phases follow each other: late work of a phase feeds early work of the next.
    cross = links_wanted // 5
    for _ in range(cross):
        g = rng.randrange(0, len(groups) - per_phase)
        h = rng.randrange((phase_of_group[g] + 1) * per_phase, (phase_of_group[g] + 2) * per_phase)
        pred = rng.choice(members[g][-6:])
        succ = rng.choice(members[h][:6])
        add(pred, succ, *random_type_and_lag())
    while len(links) < links_wanted:
        group = members[rng.randrange(len(members))]
        i, j = sorted(rng.sample(range(len(group)), 2))
        add(group[i], group[j], *random_type_and_lag())
    return items, links


def point_graph(items: list[Item], links: list[Link], calendar: WorkCalendar):
    """The same network as a weighted DAG of points for networkx (the time model of
    ``projects.calc.scheduling``): a source; a start and a finish node per work package or
    milestone (a one-day box whose incoming FS links act as FF); for a summary receiving
    links (or under one) gate nodes for its SS and FS bounds; for a summary sending links (or
    under one) a roll-up of its finish."""
    import networkx as nx

    axis = Axis(calendar, START)
    parent = {item.id: item.parent for item in items}
    children: dict[object, list[object]] = {}
    for item in items:
        if item.parent is not None:
            children.setdefault(item.parent, []).append(item.id)
    into = {link.successor for link in links if link.successor in children}
    out_of = {link.predecessor for link in links if link.predecessor in children}

    def under(item_id: object, marked: set[object]) -> bool:
        while item_id is not None:
            if item_id in marked:
                return True
            item_id = parent[item_id]
        return False

    graph = nx.DiGraph()
    fixed: set[object] = set()
    milestones: set[object] = set()
    for item in items:
        if item.id in children:
            continue
        d = item.duration
        if d == 0:
            milestones.add(item.id)
        if item.actual_start or item.actual_finish:
            fixed.add(item.id)
            if d == 0:
                s = max(0, axis.index_on_or_before(item.actual_finish or item.actual_start))
                f = s + 1
            elif item.actual_start is None:
                f = max(1, axis.index_on_or_before(item.actual_finish) + 1)
                s = max(0, f - d)
            else:
                s = max(0, axis.index_on_or_after(item.actual_start))
                f = axis.index_on_or_before(item.actual_finish) + 1 if item.actual_finish else s + d
                f = max(f, s + 1)
            graph.add_edge("source", ("s", item.id), weight=s)
            graph.add_edge(("s", item.id), ("f", item.id), weight=f - s)
            continue
        bound = 0
        if item.start_no_earlier_than:
            bound = max(0, axis.index_on_or_after(item.start_no_earlier_than))
        graph.add_edge("source", ("s", item.id), weight=bound)
        graph.add_edge(("s", item.id), ("f", item.id), weight=d or 1)
    for sid, kids in children.items():
        gated, rolled = under(sid, into), under(sid, out_of)
        for kid in kids:
            if gated and kid not in fixed:
                if kid in children:
                    graph.add_edge(("g", sid), ("g", kid), weight=0)
                    graph.add_edge(("gx", sid), ("gx", kid), weight=0)
                else:
                    graph.add_edge(("g", sid), ("s", kid), weight=0)
                    graph.add_edge(("gx", sid), ("s", kid), weight=-1 if kid in milestones else 0)
            if rolled:
                graph.add_edge(("r", kid) if kid in children else ("f", kid), ("r", sid), weight=0)
    for link in links:
        pred, succ, lag = link.predecessor, link.successor, link.lag
        if succ in fixed:
            continue
        if pred in children:
            source = ("r", pred)  # FS / FF only out of summaries: the roll-up finish
        else:
            source = ("s", pred) if link.type in ("SS", "SF") else ("f", pred)
        if succ in children:  # FS / SS only into summaries: their start bounds
            target, weight = ("gx" if link.type == "FS" else "g", succ), lag
        elif link.type in ("FF", "SF") or (link.type == "FS" and succ in milestones):
            target, weight = ("s", succ), lag - (graph[("s", succ)][("f", succ)]["weight"])
        else:
            target, weight = ("s", succ), lag
        graph.add_edge(source, target, weight=weight)
    return graph


def networkx_schedule(graph) -> int:
    """Project length by ``dag_longest_path_length``, then late points by a backward pass."""
    import networkx as nx

    length = nx.dag_longest_path_length(graph)
    late: dict[object, int] = {}
    succ = graph._succ
    for node in reversed(list(nx.topological_sort(graph))):
        bound = length
        for target, data in succ[node].items():
            candidate = late[target] - data["weight"]
            if candidate < bound:
                bound = candidate
        late[node] = bound
    return int(length)


def section_schedule(args: argparse.Namespace) -> None:
    import networkx as nx

    rng = random.Random(args.seed)
    calendar = WorkCalendar.of({1, 2, 3, 4, 5}, holidays_2027_2030())
    items, links = build_project(rng)
    graph = point_graph(items, links, calendar)
    summaries = len({item.parent for item in items if item.parent is not None})
    print(
        f"Python {platform.python_version()}, networkx {nx.__version__}, {os.cpu_count()} cores; "
        f"{len(items):,} work items ({summaries} summaries), {len(links):,} links; "
        f"point graph {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges"
    )
    ours: list[float] = []
    theirs: list[float] = []
    schedule = compute(items, links, calendar=calendar, start=START)  # warm-up, and checked
    length = networkx_schedule(graph)
    assert schedule.duration_days == length, (schedule.duration_days, length)
    for _ in range(args.rounds):
        ours.append(timed(lambda: compute(items, links, calendar=calendar, start=START))[0])
        theirs.append(timed(lambda: networkx_schedule(graph))[0])
    o50, o95 = percentiles(ours)
    t50, t95 = percentiles(theirs)
    print(f"schedule: {schedule.duration_days} working days from {schedule.start} to "
          f"{schedule.finish}, {len(schedule.critical_path)} critical items")  # fmt: skip
    print(f"{'':<38} {'p50':>9} {'p95':>9}")
    print(f"{'scheduling.compute':<38} {o50 * 1000:>7.1f}ms {o95 * 1000:>7.1f}ms")
    label = "networkx longest path + backward pass"
    print(f"{label:<38} {t50 * 1000:>7.1f}ms {t95 * 1000:>7.1f}ms")
    print(f"{'ratio compute / networkx':<38} {o50 / t50:>9.2f} {o95 / t95:>9.2f}")


# --- gantt and api: pages and API on PostgreSQL -------------------------------------------------

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/followup_bench_p"
RUNS = 30


def _django(args: argparse.Namespace) -> None:
    from bench.engagements import _ensure_database, _setup

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _ensure_database(url)
    _setup(url)


def _org_and_people():
    from accounts.models import Membership, Organization, User
    from accounts.roles import Role

    org = Organization.objects.filter(slug="bench-projects").first() or (
        Organization.objects.create(
            name="Bench Projects", slug="bench-projects", timezone="Europe/Berlin"
        )
    )
    manager = User.objects.filter(email="pm@bench-projects.test").first() or (
        User.objects.create_user(
            email="pm@bench-projects.test", password="bench-password", display_name="Bench PM"
        )
    )
    Membership.objects.for_org(org).get_or_create(
        organization=org, user=manager, defaults={"role": Role.MANAGER}
    )
    return org, manager


def _bulk_project(org, manager, code: str, items_wanted: int, links_wanted: int, seed: int):
    """A project with the generator's WBS and links, written in bulk, then scheduled by the
    service (codes, roll-up, early/late dates, floats), as every later edit would."""
    from django.db import transaction

    from accounts.ids import uuid7
    from projects import services
    from projects.models import Dependency, Project, WorkItem

    existing = Project.objects.for_org(org).filter(code=code).first()
    if existing is not None:
        return existing
    started = time.perf_counter()
    rng = random.Random(seed)
    if items_wanted > 600:
        fan = 8 if items_wanted >= 5_000 else 4  # ~30 packages a group either way
        items, links = build_project(rng, items_wanted, links_wanted, fan)
    else:  # a small plan: a few summaries, a chain of work with some side branches
        items = [Item(f"S{g}") for g in range(4)]
        items += [
            Item(f"W{n}", duration=rng.randint(1, 8), parent=f"S{n % 4}")
            for n in range(items_wanted - 4)
        ]
        links = [Link(f"W{n}", f"W{n + 1}") for n in range(items_wanted - 5) if n % 3]
    project = services.project_create(
        org=org,
        actor=manager,
        data={
            "code": code,
            "name": f"Bench plan of {len(items):,} items",
            "start_date": START,
            "manager": manager,
            "target_finish_date": START + timedelta(days=900),
        },
    )
    phase = project.phase
    ids = {item.id: uuid7() for item in items}
    positions: dict[object, int] = {}
    rows = []
    for item in items:
        positions[item.parent] = positions.get(item.parent, 0) + 1
        rows.append(
            WorkItem(
                id=ids[item.id],
                organization=org,
                project=project,
                parent_id=ids[item.parent] if item.parent is not None else None,
                position=positions[item.parent],
                phase=phase,
                name=f"Work {item.id}",
                duration_days=item.duration,
                start_no_earlier_than=item.start_no_earlier_than,
                actual_start=item.actual_start,
                actual_finish=item.actual_finish,
                percent_complete=100 if item.actual_finish else 50 if item.actual_start else 0,
                assignee=manager if rng.random() < 0.1 else None,
            )
        )
    with transaction.atomic():
        WorkItem.objects.bulk_create(rows, batch_size=2000)
        Dependency.objects.bulk_create(
            [
                Dependency(
                    organization=org,
                    project=project,
                    predecessor_id=ids[link.predecessor],
                    successor_id=ids[link.successor],
                    type=link.type,
                    lag_days=link.lag,
                )
                for link in links
            ],
            batch_size=5000,
        )
    services.project_reschedule(org=org, project=project)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_workitem")
        cursor.execute("ANALYZE projects_dependency")
    print(
        f"  built {code}: {len(items):,} items, {len(links):,} links in "
        f"{time.perf_counter() - started:.1f}s"
    )
    return Project.objects.for_org(org).get(pk=project.pk)


def _projects(args: argparse.Namespace, code: str, items: int, links: int):
    from projects.models import Project

    org, manager = _org_and_people()
    if args.rebuild:
        Project.objects.for_org(org).filter(code__in=[code, "SMALL-20"]).delete()
    big = _bulk_project(org, manager, code, items, links, args.seed)
    small = _bulk_project(org, manager, "SMALL-20", 20, 0, args.seed)
    return org, manager, big, small


def _measure(who, url: str, runs: int = RUNS) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = who.get(url)  # warm-up
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = who.get(url)
            timings.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentiles(timings)
    return p50, p95, len(queries.captured_queries), len(response.content)


def _report(rows: list[tuple[str, object, str, object, str]], runs: int = RUNS) -> None:
    print(
        f"\n{'request':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'KB':>7} "
        f"{'small p50':>10} {'ratio':>6}"
    )
    for label, who, url, small_who, small_url in rows:
        p50, p95, queries, size = _measure(who, url, runs)
        base, _p95, _q, _size = _measure(small_who, small_url, runs)
        print(
            f"{label:<44} {p50:>8.1f} {p95:>8.1f} {queries:>8} {size / 1024:>7.0f} "
            f"{base:>10.1f} {p50 / base:>6.1f}"
        )


def section_gantt(args: argparse.Namespace) -> None:
    _django(args)
    from django.test import Client

    from projects.models import Dependency, WorkItem

    org, manager, big, small = _projects(args, "GANTT-2000", 2_000, 4_000)
    client = Client()
    client.force_login(manager)
    n_items = WorkItem.objects.for_org(org).filter(project=big).count()
    n_links = Dependency.objects.for_org(org).filter(project=big).count()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores; PostgreSQL; Gantt of "
        f"{n_items:,} work items and {n_links:,} links, {big.schedule_duration_days} working "
        f"days, {len(big.critical_path)} critical items"
    )
    base = f"/o/{org.slug}/projects"
    _report(
        [
            (
                "Gantt page, week zoom (2,000 items)",
                client,
                f"{base}/{big.pk}/gantt/",
                client,
                f"{base}/{small.pk}/gantt/",
            ),
            (
                "Gantt page, day zoom (2,000 items)",
                client,
                f"{base}/{big.pk}/gantt/?zoom=day",
                client,
                f"{base}/{small.pk}/gantt/?zoom=day",
            ),
            (
                "Gantt chart only (htmx zoom swap)",
                _Htmx(client),
                f"{base}/{big.pk}/gantt/?zoom=month",
                _Htmx(client),
                f"{base}/{small.pk}/gantt/?zoom=month",
            ),
        ]
    )


class _Suggest:
    """A client whose GETs are the load page's htmx "What could move" swaps."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str):
        return self.client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="levelling")


class _Htmx:
    """A client whose GETs are htmx swaps of the Gantt chart."""

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str):
        return self.client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="gantt")


def section_api(args: argparse.Namespace) -> None:
    _django(args)
    from rest_framework.test import APIClient

    from accounts.roles import Role
    from accounts.services import api_key_create
    from projects.models import Dependency, WorkItem

    org, _manager, big, small = _projects(args, "API-10000", 10_000, 20_000)
    key = api_key_create(org=org, name="bench", role=Role.ADMIN, created_by=None, granter_role=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plain}")
    n_items = WorkItem.objects.for_org(org).filter(project=big).count()
    n_links = Dependency.objects.for_org(org).filter(project=big).count()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores; PostgreSQL; project of "
        f"{n_items:,} work items and {n_links:,} links"
    )
    url = "/api/v1/work-items/?project="
    _report(
        [
            ("API work items, 50 a page", api, f"{url}{big.pk}", api, f"{url}{small.pk}"),
            (
                "API work items, 200 a page",
                api,
                f"{url}{big.pk}&page_size=200",
                api,
                f"{url}{small.pk}&page_size=200",
            ),
            (
                "API work items, critical, 200 a page",
                api,
                f"{url}{big.pk}&critical=true&page_size=200",
                api,
                f"{url}{small.pk}&critical=true&page_size=200",
            ),
            (
                "API schedule of the project",
                api,
                f"/api/v1/projects/{big.pk}/schedule/",
                api,
                f"/api/v1/projects/{small.pk}/schedule/",
            ),
        ]
    )
    _measure_edit(api, org, big, small)


def _measure_edit(api, org, big, small) -> None:
    """PATCH one work package's duration: the service locks the project, recomputes the
    critical path of every item and bulk-updates the rows that moved, in the request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from projects.models import WorkItem

    def one(project):
        leaf = (
            WorkItem.objects.for_org(org)
            .filter(
                project=project, is_summary=False, duration_days__gt=0, actual_start__isnull=True
            )
            .order_by("wbs_path")
            .first()
        )
        timings, queries = [], 0
        for n in range(10):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = api.patch(
                    f"/api/v1/work-items/{leaf.pk}/",
                    {"duration_days": leaf.duration_days + 1 + n % 2},
                    format="json",
                )
                timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            queries = len(captured.captured_queries)
        return (*percentiles(timings), queries)

    p50, p95, queries = one(big)
    base, _p95, _q = one(small)
    label = "PATCH a duration (recompute, store)"
    print(
        f"{label:<44} {p50:>8.1f} {p95:>8.1f} {queries:>8} {'':>7} {base:>10.1f} {p50 / base:>6.1f}"
    )


def _baselined(org, manager, project, costs: int, seed: int) -> None:
    """Baseline 1, three dated progress records per package and ``costs`` cost entries."""
    from decimal import Decimal

    from django.db import connection, transaction

    from projects import control
    from projects.models import Baseline, CostEntry, ProgressRecord, WorkItem

    if Baseline.objects.for_org(org).filter(project=project).exists():
        return
    started = time.perf_counter()
    rng = random.Random(seed)
    leaves = list(
        WorkItem.objects.for_org(org)
        .filter(project=project, is_summary=False)
        .values_list("pk", "early_start")
    )
    with transaction.atomic():
        for pk, _start in leaves:
            budget = Decimal(rng.randrange(100, 10**6)).scaleb(-2)
            WorkItem.objects.for_org(org).filter(pk=pk).update(budget=budget)
        control.baseline_create(org=org, actor=manager, project=project, name="Bench plan")
        ProgressRecord.objects.bulk_create(
            [
                ProgressRecord(
                    organization=org,
                    project=project,
                    work_item_id=pk,
                    date=(start or START) + timedelta(days=rng.randrange(0, 200)),
                    percent_complete=Decimal(rng.randrange(0, 101)),
                )
                for pk, start in leaves
                for _ in range(3)
            ],
            batch_size=5000,
        )
        CostEntry.objects.bulk_create(
            [
                CostEntry(
                    organization=org,
                    project=project,
                    work_item_id=rng.choice(leaves)[0],
                    category="labour",
                    date=START + timedelta(days=rng.randrange(365)),
                    amount=Decimal(rng.randrange(1, 10**6)).scaleb(-2),
                )
                for _ in range(costs)
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        for table in ("projects_costentry", "projects_progressrecord", "projects_baselineitem"):
            cursor.execute(f"ANALYZE {table}")
    print(f"  baselined {project.code}: {time.perf_counter() - started:.1f}s")


def section_earned_value(args: argparse.Namespace) -> None:
    _django(args)
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.roles import Role
    from accounts.services import api_key_create
    from projects.models import CostEntry, WorkItem

    org, manager, big, small = _projects(args, "EV-10000", 10_650, 20_000)
    _baselined(org, manager, big, 100_000, args.seed)
    _baselined(org, manager, small, 200, args.seed)
    key = api_key_create(org=org, name="bench", role=Role.ADMIN, created_by=None, granter_role=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plain}")
    browser = Client()
    browser.force_login(manager)
    packages = WorkItem.objects.for_org(org).filter(project=big, is_summary=False).count()
    costs = CostEntry.objects.for_org(org).filter(project=big).count()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores; PostgreSQL; project of "
        f"{packages:,} work packages, {costs:,} cost entries; {args.rounds} runs each"
    )
    as_of = (START + timedelta(days=180)).isoformat()
    ev = "/api/v1/projects/{}/earned-value/?as_of=" + as_of
    items = "/api/v1/projects/{}/earned-value/work-items/?as_of=" + as_of
    page = "/o/bench-projects/projects/{}/?as_of=" + as_of
    drill = "/o/bench-projects/projects/{}/earned-value/?as_of=" + as_of
    _report(
        [
            ("API earned value + weekly series", api, ev.format(big.pk), api, ev.format(small.pk)),
            (
                "API earned value + daily series",
                api,
                ev.format(big.pk) + "&step=day",
                api,
                ev.format(small.pk) + "&step=day",
            ),
            (
                "API drill-down, first page (50, WBS)",
                api,
                items.format(big.pk),
                api,
                items.format(small.pk),
            ),
            (
                "API drill-down, worst SV first (50)",
                api,
                items.format(big.pk) + "&order=sv",
                api,
                items.format(small.pk) + "&order=sv",
            ),
            (
                "API drill-down, page of 500 by CV",
                api,
                items.format(big.pk) + "&order=cv&page_size=500",
                api,
                items.format(small.pk) + "&order=cv&page_size=500",
            ),
            (
                "Drill-down page, worst CV first (50)",
                browser,
                drill.format(big.pk) + "&order=cv",
                browser,
                drill.format(small.pk) + "&order=cv",
            ),
            (
                "Project page with the S-curve",
                browser,
                page.format(big.pk),
                browser,
                page.format(small.pk),
            ),
        ],
        runs=args.rounds,
    )


def _load_org(seed: int):
    """200 people, 10 active projects of 120 work packages, 1,000 allocations and 2,600
    touchpoints with effort: built once in bulk (the schedule by the real service)."""
    from datetime import datetime as dt
    from datetime import time as tm

    from django.db import transaction

    from accounts.ids import uuid7
    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from engagements.models import Customer, Touchpoint
    from projects import services
    from projects.models import Allocation, Dependency, Project, Resource, WorkItem

    org = Organization.objects.filter(slug="bench-load").first()
    if org is not None:
        return org, User.objects.get(email="rm@bench-load.test")
    started = time.perf_counter()
    rng = random.Random(seed)
    org = Organization.objects.create(
        name="Bench Load", slug="bench-load", timezone="Europe/Berlin"
    )
    manager = User.objects.create_user(
        email="rm@bench-load.test", password="bench-password", display_name="Bench RM"
    )
    Membership.objects.create(organization=org, user=manager, role=Role.MANAGER)
    people = User.objects.bulk_create(
        [
            User(email=f"person{n}@bench-load.test", display_name=f"Person {n:03d}")
            for n in range(200)
        ]
    )
    Membership.objects.bulk_create(
        [Membership(organization=org, user=u, role=Role.MEMBER) for u in people]
    )
    resources = Resource.objects.bulk_create(
        [
            Resource(
                organization=org,
                kind="person",
                name=u.display_name,
                user=u,
                weekly_capacity_hours=40,
            )
            for u in people
        ]
    )
    packages = []
    for p in range(10):
        project = services.project_create(
            org=org,
            actor=manager,
            data={"code": f"LOAD-{p}", "name": f"Load project {p}", "start_date": START},
        )
        ids = [uuid7() for _ in range(120)]
        rows = [
            WorkItem(
                id=ids[n],
                organization=org,
                project=project,
                position=n + 1,
                phase=project.phase,
                name=f"Package {p}-{n}",
                duration_days=rng.randint(3, 15),
            )
            for n in range(120)
        ]
        with transaction.atomic():
            WorkItem.objects.bulk_create(rows)
            Dependency.objects.bulk_create(
                [
                    Dependency(
                        organization=org,
                        project=project,
                        predecessor_id=ids[n - rng.randint(1, min(n, 12))],
                        successor_id=ids[n],
                    )
                    for n in range(1, 120)
                    if rng.random() < 0.8
                ],
                ignore_conflicts=True,
            )
        services.project_reschedule(org=org, project=project)
        Project.objects.for_org(org).filter(pk=project.pk).update(status="active")
        packages += [(project.pk, i) for i in ids]
    allocations = []
    for res in resources:
        for project_id, item_id in rng.sample(packages, 5):
            allocations.append(
                Allocation(
                    organization=org,
                    project_id=project_id,
                    work_item_id=item_id,
                    resource=res,
                    per_day=rng.choice([2, 3, 4, 6]),
                )
            )
    Allocation.objects.bulk_create(allocations, ignore_conflicts=True)
    customer = Customer.objects.create(organization=org, name="Bench customer")
    zone = __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    Touchpoint.objects.bulk_create(
        [
            Touchpoint(
                organization=org,
                customer=customer,
                channel="call",
                occurred_at=dt.combine(START + timedelta(weeks=w, days=2), tm(10), tzinfo=zone),
                summary="Call",
                effort_minutes=rng.choice([30, 60, 120, 240]),
                logged_by=u,
            )
            for u in people
            for w in range(0, 26, 2)
        ],
        batch_size=2000,
    )
    print(f"  built bench-load in {time.perf_counter() - started:.1f}s")
    return org, manager


def section_resource_load(args: argparse.Namespace) -> None:
    """The organization-wide resource load: 200 people over 26 weeks (page and API), beside
    the same over 4 weeks."""
    _django(args)
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.roles import Role
    from accounts.services import api_key_create
    from projects.models import Allocation

    org, manager = _load_org(args.seed)
    key = api_key_create(org=org, name="bench", role=Role.ADMIN, created_by=None, granter_role=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key.plain}")
    browser = Client()
    browser.force_login(manager)
    allocations = Allocation.objects.for_org(org).count()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores; PostgreSQL; 200 people, "
        f"{allocations:,} allocations over 10 projects, 2,600 touchpoints; {args.rounds} runs each"
    )
    start = START.isoformat()
    page = f"/o/bench-load/projects/resources/load/?start={start}&weeks="
    endpoint = f"/api/v1/resources/load/?start={start}&weeks="
    print(f"\n{'request':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'KB':>7}")
    for label, who, url in (
        ("Load page, 26 weeks (25 people)", browser, page + "26"),
        ("Load page, 26 weeks, page 8", browser, page + "26&page=8"),
        ("Load page, 26 weeks, over-allocated only", browser, page + "26&over=on"),
        ("Load page, 26 weeks, suggestions (htmx)", _Suggest(browser), page + "26&suggest=1"),
        ("Load page, 4 weeks", browser, page + "4"),
        ("Load API, 26 weeks (25 people)", api, endpoint + "26"),
        ("Load API, 26 weeks, 200 people a page", api, endpoint + "26&page_size=200"),
        ("Load API, 26 weeks, over only", api, endpoint + "26&over=true"),
        ("Load API, 26 weeks, with suggestions", api, endpoint + "26&suggest=true"),
        ("Load API, 4 weeks", api, endpoint + "4"),
    ):
        p50, p95, queries, size = _measure(who, url, args.rounds)
        print(f"{label:<44} {p50:>8.1f} {p95:>8.1f} {queries:>8} {size / 1024:>7.0f}")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "schedule": section_schedule,
    "gantt": section_gantt,
    "api": section_api,
    "earned_value": section_earned_value,
    "resource_load": section_resource_load,
}


def main() -> None:
    args = parse()
    SECTIONS[args.section](args)


if __name__ == "__main__":
    main()
