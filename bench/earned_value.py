"""Earned value on a large project: the S-curve, the status-date figures and the drill-down.

    .venv/bin/python bench/earned_value.py [--packages 10000] [--costs 100000] [--repeat 5]

Pure computation (no database): ``--packages`` work packages spread over one year (spans of
0 to 120 days, three progress records each) and ``--costs`` cost entries, on a Monday-Friday
calendar with holidays. Prints the median wall time of each call over ``--repeat`` runs; the
target is the daily series of the whole year well under a second.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from projects.calc.calendar import WorkCalendar  # noqa: E402
from projects.calc.earned_value import (  # noqa: E402
    CostEntry,
    WorkPackage,
    by_work_item,
    earned_value,
    series,
)

START = date(2027, 1, 1)
END = date(2027, 12, 31)


def build(n_packages: int, n_costs: int) -> tuple[list[WorkPackage], list[CostEntry]]:
    rng = random.Random(20270101)
    packages = []
    for i in range(n_packages):
        first = START + timedelta(days=rng.randrange(300))
        last = first + timedelta(days=rng.randrange(0, 121))
        progress = [
            (first + timedelta(days=rng.randrange(0, 200)), rng.randrange(0, 101)) for _ in range(3)
        ]
        budget = Decimal(rng.randrange(0, 10**7)).scaleb(-2)
        packages.append(WorkPackage(i, budget, first, last, progress))
    costs = [
        CostEntry(
            START + timedelta(days=rng.randrange(365)),
            Decimal(rng.randrange(1, 10**6)).scaleb(-2),
            rng.randrange(n_packages) if n_packages else None,
        )
        for _ in range(n_costs)
    ]
    return packages, costs


def timed(repeat: int, call: Callable[[], object]) -> float:
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=10_000)
    parser.add_argument("--costs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    calendar = WorkCalendar.of(
        {1, 2, 3, 4, 5}, {date(2027, 1, 1), date(2027, 5, 1), date(2027, 12, 25)}
    )
    packages, costs = build(args.packages, args.costs)
    as_of = date(2027, 7, 15)
    print(f"{args.packages} work packages, {args.costs} cost entries, {START} to {END}")
    cases: list[tuple[str, Callable[[], object]]] = [
        ("series, daily (365 points)", lambda: series(packages, costs, calendar, START, END)),
        (
            "series, weekly",
            lambda: series(packages, costs, calendar, START, END, step="week"),
        ),
        ("earned_value at one date", lambda: earned_value(packages, costs, calendar, as_of)),
        ("by_work_item (drill-down)", lambda: by_work_item(packages, costs, calendar, as_of)),
    ]
    for name, call in cases:
        print(f"{name:32} {timed(args.repeat, call) * 1000:8.1f} ms (median of {args.repeat})")


if __name__ == "__main__":
    main()
