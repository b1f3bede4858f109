"""The README is what a clone has: its links and settings must be in the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_readme_points_only_at_files_a_clone_has():
    """Issue 11, defect 11: the README pointed at ../shared/API.md."""
    assert "../shared" not in README
    for path in set(re.findall(r"`((?:docs|tools|bench)/[\w./-]+\.\w+)`", README)):
        assert (ROOT / path).exists(), path
    assert (ROOT / "docs" / "API.md").exists()


def test_the_readme_documents_every_followup_setting_the_settings_read():
    settings_source = (ROOT / "followup" / "site" / "settings.py").read_text()
    names = set(re.findall(r'env_\w+\(\s*"(FOLLOWUP_(?:PORT|BASE_URL))"', settings_source))
    assert names == {"FOLLOWUP_PORT", "FOLLOWUP_BASE_URL"}
    for name in names:
        assert f"`{name}`" in README


def test_the_readme_says_who_manages_api_keys():
    text = " ".join(README.split())
    assert "API keys; the entry is shown to admins and owners only" in text
