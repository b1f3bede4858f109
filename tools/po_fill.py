"""Fill empty or fuzzy zh-Hans entries of catalogues, from a dictionary or from other catalogues.

    python tools/po_fill.py --dict words.py   app/locale/zh_Hans/LC_MESSAGES/django.po ...
    python tools/po_fill.py --from old.po ... -- app/locale/zh_Hans/LC_MESSAGES/django.po ...
    python tools/po_fill.py --missing          app/locale/zh_Hans/LC_MESSAGES/django.po ...

``words.py`` defines ``T = {"msgid": "译文", ...}``; a plural entry's value is a list
(``msgstr[0]``...). ``--from`` copies translations of the same (msgctxt, msgid) from other
catalogues (a branch's catalogue after a merge re-made them). ``--missing`` lists what is
still untranslated or fuzzy. Run ``make messages`` afterwards to compile.
"""

from __future__ import annotations

import argparse
import runpy
import sys

import polib


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _needs(entry: polib.POEntry) -> bool:
    if entry.obsolete:
        return False
    if "fuzzy" in entry.flags:
        return True
    if entry.msgid_plural:
        return not all(entry.msgstr_plural.values())
    return not entry.msgstr


def _set(entry: polib.POEntry, value: object) -> None:
    if entry.msgid_plural:
        values = value if isinstance(value, list) else [value]
        entry.msgstr_plural = {
            i: str(values[min(i, len(values) - 1)]) for i in range(max(1, len(values)))
        }
    else:
        entry.msgstr = str(value[0] if isinstance(value, list) else value)
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
        entry.previous_msgid = None
        entry.previous_msgid_plural = None
        entry.previous_msgctxt = None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dict")
    parser.add_argument("--from", dest="sources", nargs="*", default=[])
    parser.add_argument("--missing", action="store_true")
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args(argv)

    known: dict[tuple[str | None, str], object] = {}
    by_msgid: dict[str, object] = {}
    for source in args.sources:
        for entry in polib.pofile(source):
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            value: object = (
                [entry.msgstr_plural[i] for i in sorted(entry.msgstr_plural)]
                if entry.msgid_plural
                else entry.msgstr
            )
            if value and (not isinstance(value, list) or all(value)):
                known[_key(entry)] = value
                by_msgid.setdefault(entry.msgid, value)
    if args.dict:
        for msgid, value in runpy.run_path(args.dict)["T"].items():
            by_msgid[msgid] = value

    missing = 0
    for target in args.targets:
        po = polib.pofile(target, wrapwidth=79)
        filled = 0
        for entry in po:
            if not _needs(entry):
                continue
            value = known.get(_key(entry), by_msgid.get(entry.msgid))
            if value and not args.missing:
                _set(entry, value)
                filled += 1
            else:
                missing += 1
                if args.missing or value is None:
                    ctx = f"[{entry.msgctxt}] " if entry.msgctxt else ""
                    print(f"{target}: {ctx}{entry.msgid!r}")
        if filled:
            po.save(target)
        print(f"{target}: filled {filled}", file=sys.stderr)
    return 1 if args.missing and missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
