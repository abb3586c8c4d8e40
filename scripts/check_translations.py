"""Check that every user-facing message has an English translation and that the .mo is current.

Extracts the messages of webapp/ (the same mapping and keywords as ``make translations``) to a
temporary .pot, then fails (exit 1) when a msgid is missing from the English catalog, has an empty
or fuzzy translation, or a translation whose %(name)s placeholders differ from the msgid's, or
when the compiled messages.mo does not hold exactly what the .po compiles to. Exit 0 otherwise.

    .venv/bin/python scripts/check_translations.py            # check
    make translations   # catch up: extract, update the en catalog, compile (then translate)
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "webapp" / "translations"
LOCALE = "en"
# Babel's defaults (_, gettext, ngettext, pgettext, ...) plus the lazy forms: keep in step with
# the -k options of the Makefile's `translations` target.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
_PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?([diouxXeEfFgGcrs%])")
REFRESH = (
    "to fix: 1) make translations  (extract, add new msgids to the .po, compile)\n"
    "        2) fill in every empty/fuzzy msgstr in webapp/translations/en/LC_MESSAGES/messages.po\n"
    "           (delete the '#, fuzzy' line; keep %(name)s placeholders exactly)\n"
    "        3) .venv/bin/pybabel compile -d webapp/translations"
)


@dataclass
class Report:
    """What the check found; ``ok`` when there is nothing to fix."""

    missing: list[str] = field(default_factory=list)  # "file:line: msgid" not in the catalog
    untranslated: list[str] = field(default_factory=list)  # in the catalog, empty translation
    fuzzy: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)  # %(x)s differ between msgid and msgstr
    mo_problems: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)  # in the catalog but no longer in the code
    total: int = 0

    @property
    def ok(self) -> bool:
        return not (self.missing or self.untranslated or self.fuzzy or self.placeholders or self.mo_problems)

    def lines(self) -> list[str]:
        out: list[str] = []
        for title, items in (
            ("msgids missing from the en catalog", self.missing),
            ("msgids with an empty English translation", self.untranslated),
            ("msgids whose translation is marked fuzzy", self.fuzzy),
            ("translations whose placeholders differ from the msgid", self.placeholders),
            ("compiled catalog problems", self.mo_problems),
        ):
            if items:
                out.append(f"{title} ({len(items)}):")
                out.extend(f"  {item}" for item in items)
        if self.obsolete:
            out.append(
                f"note: {len(self.obsolete)} catalog entries are no longer used (make translations drops them)"
            )
        return out


def _directory_filter(root: Path, patterns: list[str]):
    """Walk only the top-level folders the mapping can match (webapp/), skipping .venv and friends."""
    tops = {p.split("/", 1)[0] for p in patterns}
    restrict = not any(any(ch in top for ch in "*?[") for top in tops)

    def keep(dirpath: str) -> bool:
        if os.path.basename(dirpath).startswith((".", "_")):  # as pybabel: .venv, __pycache__, ...
            return False
        rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
        return not restrict or rel == "." or rel.split("/", 1)[0] in tops

    return keep


def extract(root: Path = ROOT, mapping: Path | None = None) -> Catalog:
    """The messages in the code now, written to a temporary .pot and read back as pybabel would."""
    mapping = mapping or root / "babel.cfg"
    with open(mapping, encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, filename=str(mapping))
    catalog = Catalog(project="JakMentor", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(root),
        method_map,
        options_map,
        keywords=KEYWORDS,
        directory_filter=_directory_filter(root, [pattern for pattern, _ in method_map]),
    ):
        catalog.add(
            message, None, [(filename.replace(os.sep, "/"), lineno)], auto_comments=comments, context=context
        )
    with tempfile.TemporaryDirectory() as tmp:
        pot = Path(tmp) / "messages.pot"
        with open(pot, "wb") as f:
            write_po(f, catalog, width=76)
        with open(pot, "rb") as f:
            return read_po(f)


def _strings(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def _names(text: str) -> set[str]:
    """The placeholders of a %-format string, ``%%`` aside: {'(name)s', 'd', ...}."""
    return {f"({name}){kind}" if name else kind for name, kind in _PLACEHOLDER.findall(text) if kind != "%"}


def _where(message) -> str:
    locs = sorted(message.locations)
    if not locs:
        return "?"
    first = f"{locs[0][0]}:{locs[0][1]}"
    return first if len(locs) == 1 else f"{first} (+{len(locs) - 1} more)"


def _mo_messages(catalog: Catalog) -> dict:
    return {(m.id, m.context): m.string for m in catalog if m.id}


def check(root: Path = ROOT, translations: Path = TRANSLATIONS, locale: str = LOCALE) -> Report:
    """Compare the code's messages with the ``locale`` catalog and its compiled .mo."""
    report = Report()
    template = extract(root)
    po_path = translations / locale / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    if po_path.exists():
        with open(po_path, "rb") as f:
            po = read_po(f, locale=locale)
    else:
        po = Catalog(locale=locale)
        report.mo_problems.append(
            f"{po_path.relative_to(root)} does not exist: pybabel init -l {locale} first"
        )

    for message in template:
        if not message.id:
            continue
        report.total += 1
        msgid = _strings(message.id)[0]
        label = f"{_where(message)}: {msgid!r}"
        entry = po.get(message.id, message.context)
        if entry is None:
            report.missing.append(label)
            continue
        translations_ = _strings(entry.string)
        if not all(translations_):
            report.untranslated.append(label)
        elif entry.fuzzy:
            report.fuzzy.append(label)
        else:
            wanted = _names(msgid)
            if any("%" in text for text in (msgid, *translations_)):
                for text in translations_:
                    if _names(text) != wanted:
                        report.placeholders.append(f"{label} -> {text!r}")
                        break
    used = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in template if m.id}
    report.obsolete = [
        str(m.id)
        for m in po
        if m.id and ((m.id if isinstance(m.id, str) else m.id[0]), m.context) not in used
    ]

    if po_path.exists():
        if not mo_path.exists():
            report.mo_problems.append(f"{mo_path.relative_to(root)} does not exist: run pybabel compile")
        else:
            buf = io.BytesIO()
            write_mo(buf, po)
            buf.seek(0)
            expected = _mo_messages(read_mo(buf))
            with open(mo_path, "rb") as f:
                actual = _mo_messages(read_mo(f))
            if expected != actual:
                stale = sorted(
                    str(k[0]) for k in set(expected) | set(actual) if expected.get(k) != actual.get(k)
                )
                shown = ", ".join(repr(s) for s in stale[:5]) + (" ..." if len(stale) > 5 else "")
                report.mo_problems.append(
                    f"{mo_path.relative_to(root)} is out of date with the .po ({len(stale)} messages differ: "
                    f"{shown}); run: .venv/bin/pybabel compile -d webapp/translations"
                )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--locale", default=LOCALE, help="catalog to check (default: %(default)s)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing when all is well")
    args = parser.parse_args(argv)
    report = check(locale=args.locale)
    if report.ok:
        if not args.quiet:
            print(
                f"translations OK: {report.total} messages, all translated into {args.locale!r}, .mo current"
            )
            for line in report.lines():
                print(line)
        return 0
    for line in report.lines():
        print(line, file=sys.stderr)
    print(REFRESH, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
