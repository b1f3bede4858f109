"""Project follow-up at scale: pure calculations timed against a reference, in the same run.

    .venv/bin/python bench/projects.py --section schedule [--rounds 15] [--seed 20270104]

Run by hand, never by CI. Needs no database and no Django settings: the sections time
``projects.calc`` functions on data built in memory.

Sections (one function each, ``SECTIONS`` below; more to come: the Gantt page of 2,000 items,
the work-item list API at 10,000 items, earned value):

- ``schedule``: a random but realistic project of 10,000 work items (a four-level WBS of 584
  summaries over 9,416 work packages and milestones) and 20,000 links (mostly FS, some SS, FF,
  SF, lags and leads, a few into and out of summaries, some start-no-earlier-than and actual
  dates) on a Monday-Friday calendar with holidays. ``projects.calc.scheduling.compute``
  (validation, forward and backward passes, free float, dates out) is timed beside networkx
  on the equivalent point graph, built beforehand: ``nx.dag_longest_path_length`` plus a
  backward pass over ``nx.topological_sort``. Rounds are interleaved so that both see the
  same machine state; p50 / p95 of each and the ratio are printed, and both results are
  checked to agree on the project's length.
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
    rng: random.Random, items_wanted: int = 10_000, links_wanted: int = 20_000
) -> tuple[list[Item], list[Link]]:
    """A four-level WBS (8 phases x 8 deliverables x 8 packages, then work packages) with
    links that mostly follow the work's order and stay close, as real plans do."""
    summaries: list[tuple[str, str | None]] = []
    groups: list[str] = []
    for p in range(8):
        phase = f"P{p}"
        summaries.append((phase, None))
        for d in range(8):
            deliverable = f"{phase}.D{d}"
            summaries.append((deliverable, phase))
            for g in range(8):
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
    phase_of_group = [g // 64 for g in range(len(groups))]
    # Each package runs three lanes of work in sequence (FS), with a few more links inside.
    for group in members:
        for k in range(3, len(group)):
            add(group[k - 3], group[k], "FS", 0)
    # A few links between summaries, an earlier block to a later one, and between a work
    # package and a later package: into summaries FS/SS, out of summaries FS/FF (the types
    # the point graph of the reference can express).
    for _ in range(links_wanted // 100):
        a, b = sorted(rng.sample(range(len(groups)), 2))
        if phase_of_group[a] == phase_of_group[b] and b < len(groups) - 64:
            b += 64  # to the next phase, so the phases stay in sequence
        if rng.random() < 0.5:
            add(groups[a], groups[b], rng.choice(["FS", "FS", "FS", "SS"]), rng.choice([0, 0, 2]))
        else:
            add(rng.choice(members[a]), groups[b], "FS", 0)
    # Phases follow each other: late work of a phase feeds early work of the next.
    cross = links_wanted // 5
    for _ in range(cross):
        g = rng.randrange(0, len(groups) - 64)
        h = rng.randrange((phase_of_group[g] + 1) * 64, (phase_of_group[g] + 2) * 64)
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


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {"schedule": section_schedule}


def main() -> None:
    args = parse()
    SECTIONS[args.section](args)


if __name__ == "__main__":
    main()
