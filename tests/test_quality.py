"""Lint is part of the suite, so CI fails on it like on any test."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"


def test_ruff_check_is_clean():
    result = subprocess.run([RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [RUFF, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_point_one_way():
    """import-linter's contracts (pyproject.toml): a forbidden arrow fails the suite."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run(
        [lint_imports or "lint-imports", "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


PURE_MODULES = [
    "followup.engine.calc.recurrence",
    "engagements.calc.health",
    "engagements.calc.phone",
    "projects.calc.calendar",
    "projects.calc.earned_value",
    "projects.calc.scheduling",
    "projects.calc.wbs",
    "risks.calc.scoring",
    "risks.calc.fmea",
]


def test_pure_calculations_load_without_django_or_celery():
    """Each pure module imports in a bare interpreter, loading nothing of Django, Celery or
    the rest of the project (import-linter checks the arrows; this checks the runtime)."""
    probe = (
        "import importlib, sys\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module(name)\n"
        "roots = {m.split('.')[0] for m in sys.modules}\n"
        "assert not roots & {'django', 'celery', 'rest_framework'}, sorted(roots)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in"
        " ('accounts', 'followup', 'engagements', 'projects', 'risks')"
        " and '.calc' not in m and m.count('.') > 0 and not m.endswith(('.engine',))]\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *PURE_MODULES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_types_check_against_a_baseline_that_only_shrinks():
    sys.path.insert(0, str(ROOT / "tools"))
    import mypy_baseline

    found, _output = mypy_baseline.run_mypy()
    baseline = mypy_baseline.read_baseline()
    strict = [e for e in baseline if e.startswith(mypy_baseline.STRICT_FROM_THE_START)]
    assert not strict, f"projects/ and risks/ have no baseline: fix these instead: {strict}"
    new = found - baseline
    assert not new, "New type errors (fix them; the baseline never grows):\n" + "\n".join(
        sorted(new.elements())
    )
    fixed = baseline - found
    assert not fixed, (
        "Fixed errors are still in mypy-baseline.txt: run "
        "`python tools/mypy_baseline.py --shrink`:\n" + "\n".join(sorted(fixed.elements()))
    )
