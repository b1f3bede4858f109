"""The recorded mypy errors of code written before types were checked, and how they shrink.

``mypy-baseline.txt`` lists each known error as ``path: [code] message`` (no line numbers,
so unrelated edits do not churn it), once per occurrence. The suite
(``tests/test_quality.py``) fails when mypy reports an error the baseline does not hold
(new code must type-check), when the baseline holds an error that is gone (remove it:
the baseline only shrinks), and when it holds anything under ``projects/`` or ``risks/``
(strict from their first line).

    python tools/mypy_baseline.py --shrink   # drop fixed errors; never adds one
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
STRICT_FROM_THE_START = ("projects/", "risks/")
_LINE = re.compile(
    r"^(?P<path>[^:]+):\d+(?::\d+)?: error: (?P<message>.*?)\s+\[(?P<code>[\w-]+)\]$"
)


def run_mypy() -> tuple[Counter[str], str]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-color-output", "--no-error-summary"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    found: Counter[str] = Counter()
    for line in result.stdout.splitlines():
        match = _LINE.match(line)
        if match:
            found[f"{match['path']}: [{match['code']}] {match['message']}"] += 1
        elif ": error:" in line:
            found[line] += 1  # an error mypy printed without a code: never baselined
    return found, result.stdout + result.stderr


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line.strip())


def write_baseline(entries: Counter[str]) -> None:
    lines = sorted(entries.elements())
    BASELINE.write_text("".join(f"{line}\n" for line in lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shrink", action="store_true", help="drop errors that are fixed")
    parser.add_argument("--record", action="store_true", help="record everything (first run)")
    args = parser.parse_args()
    found, _output = run_mypy()
    if args.record:
        write_baseline(
            Counter({k: v for k, v in found.items() if not k.startswith(STRICT_FROM_THE_START)})
        )
    elif args.shrink:
        write_baseline(read_baseline() & found)
    baseline = read_baseline()
    print(f"{sum(found.values())} errors now, {sum(baseline.values())} in the baseline")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
