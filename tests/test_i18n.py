"""Every UI string is translatable, translated to zh-Hans, and the catalogue is compiled."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(
    p for p in ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po") if ".venv" not in p.parts
)
TEMPLATES = sorted(
    p
    for p in ROOT.glob("**/templates/**/*")
    if p.suffix in (".html", ".txt") and ".venv" not in p.parts
)
# Words that are the same in every language: the product's name and technical terms.
UNTRANSLATED_OK = {
    "Followup",
    "API",
    "CRM",
    "WBS",
    "FMEA",
    "RPN",
    "PV",
    "EV",
    "AC",
    "SPI",
    "CPI",
    "CSV",
    "iCal",
    "ETag",
    "URL",
    "OK",
    "Bearer",
    "Authorization",
    "SVG",
    "P",
    "I",
    "S",
    "O",
    "D",
    "x",
}
HUMAN_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt")


def _catalogue_ids() -> list[str]:
    return [str(p.relative_to(ROOT)) for p in CATALOGUES]


@pytest.mark.parametrize("path", CATALOGUES, ids=_catalogue_ids())
def test_every_message_is_translated(path):
    po = polib.pofile(str(path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [] and fuzzy == [], f"{path}: untranslated {untranslated}, fuzzy {fuzzy}"


@pytest.mark.parametrize("path", CATALOGUES, ids=_catalogue_ids())
def test_the_compiled_catalogue_matches_its_source(path):
    mo_path = path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run `make messages`"
    po = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0)
        for e in polib.pofile(str(path)).translated_entries()
    }
    mo = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural.get(0) for e in polib.mofile(str(mo_path))
    }
    mo.pop((None, ""), None)
    assert po == mo, f"{mo_path} is stale: run `make messages`"


def _visible_text(source: str) -> list[str]:
    """Words a person would read that are not produced by a template tag."""
    text = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", " ", source, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}", "\x00", text, flags=re.S)
    problems = []
    for attr, value in re.findall(r"\b(" + "|".join(HUMAN_ATTRIBUTES) + r')="([^"]*)"', text):
        if re.search(r"[A-Za-z]{2,}", value):
            problems.append(f'{attr}="{value}"')
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]*>", " ", text, flags=re.S)
    text = re.sub(r"&\w+;|&#\d+;", " ", text)
    problems += [
        w for w in re.findall(r"[A-Za-z][A-Za-z'\u2019-]+", text) if w not in UNTRANSLATED_OK
    ]
    return problems


def _inside_translation_blocks(source: str) -> str:
    # Text inside {% blocktranslate %} ... {% endblocktranslate %} is translatable.
    return re.sub(
        r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", "", source, flags=re.S
    )


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(ROOT)) for p in TEMPLATES])
def test_templates_have_no_untranslatable_text(path):
    problems = _visible_text(_inside_translation_blocks(path.read_text()))
    assert problems == [], (
        f"{path.relative_to(ROOT)}: wrap in {{% translate %}}: {sorted(set(problems))}"
    )


def test_the_text_scanner_catches_plain_words():
    assert _visible_text("<p>Hello world</p>") == ["Hello", "world"]
    assert _visible_text('<input placeholder="Search customers">') == [
        'placeholder="Search customers"'
    ]
    assert _visible_text('<p>{% translate "Hello" %}</p><b>{{ name }}</b>') == []


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_the_catalogues_cover_every_marked_string(tmp_path):
    """makemessages on a copy of the tree finds nothing that the committed catalogues lack."""
    copy = tmp_path / "tree"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(".venv", "var", ".git", "staticfiles", "__pycache__"),
    )
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "--locale",
            "zh_Hans",
            "--no-obsolete",
            "--ignore",
            "tests/*",
            "--ignore",
            "bench/*",
        ],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    missing = {}
    for path in CATALOGUES:
        committed = {e.msgid for e in polib.pofile(str(path))}
        fresh = {e.msgid for e in polib.pofile(str(copy / path.relative_to(ROOT)))}
        if fresh - committed:
            missing[str(path.relative_to(ROOT))] = sorted(fresh - committed)
    assert missing == {}, (
        f"Strings not in the catalogue; run `make messages` and translate: {missing}"
    )


def _translations() -> dict[tuple[str | None, str], dict[str, str]]:
    """(context, msgid) -> {catalogue: translation} over every catalogue."""
    found: dict[tuple[str | None, str], dict[str, str]] = {}
    for path in CATALOGUES:
        for e in polib.pofile(str(path)).translated_entries():
            text = e.msgstr or e.msgstr_plural.get(0, "")
            found.setdefault((e.msgctxt, e.msgid), {})[str(path.relative_to(ROOT))] = text
    return found


def test_no_two_catalogues_translate_the_same_message_differently():
    """Django merges the catalogues and the first one wins: a conflicting entry silently
    replaces another app's word (issue 11, defect 1: "Log touchpoint" read 退出登录)."""
    conflicts = {
        f"{ctx}|{msgid}" if ctx else msgid: where
        for (ctx, msgid), where in _translations().items()
        if len(set(where.values())) > 1
    }
    assert conflicts == {}, f"Give these one translation, or a context (pgettext): {conflicts}"


_BUTTON = re.compile(r"<button\b[^>]*>(.*?)</button>", re.S)
_TRANSLATE = re.compile(r'{%\s*translate\s+"([^"]+)"(?:\s+context\s+"([^"]+)")?')
_SUBMIT = re.compile(
    r'<input\b[^>]*type="submit"[^>]*value="{%\s*translate\s+"([^"]+)"'
    r'(?:\s+context\s+"([^"]+)")?'
)
# Actions offered outside a <button> (My day rows, the header's menu links).
ACTIONS_IN_CODE = {(None, "Log touchpoint"), (None, "Log out"), (None, "Log in")}


def _actions() -> set[tuple[str | None, str]]:
    actions = set(ACTIONS_IN_CODE)
    for path in TEMPLATES:
        source = path.read_text()
        for inner in _BUTTON.findall(source):
            actions |= {(ctx or None, msgid) for msgid, ctx in _TRANSLATE.findall(inner)}
        actions |= {(ctx or None, msgid) for msgid, ctx in _SUBMIT.findall(source)}
    return actions


def test_no_two_actions_read_the_same_in_chinese():
    """A button that reads like another button does the wrong thing for the reader."""
    translations = {key: next(iter(where.values())) for key, where in _translations().items()}
    by_text: dict[str, set[str]] = {}
    for key in _actions():
        if key in translations:
            by_text.setdefault(translations[key], set()).add(key[1])
    same = {text: sorted(ids) for text, ids in by_text.items() if len(ids) > 1}
    assert same == {}, f"Different actions with one translation: {same}"


def test_the_action_scanner_sees_buttons_and_the_header():
    actions = _actions()
    assert (None, "Log out") in actions and (None, "Save") in actions
    assert len(actions) > 30


def test_log_touchpoint_reads_as_logging_a_touchpoint_in_chinese(settings):
    from django.utils import translation

    with translation.override("zh-hans"):
        assert translation.gettext("Log touchpoint") == "记录客户触点"
        assert translation.gettext("Log out") == "退出登录"
