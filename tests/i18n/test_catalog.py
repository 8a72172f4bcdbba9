"""The German catalogue is complete and compiled, and no template shows English outside
the translation tags."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "caseloop"
LOCALE = SRC / "locale"
LANGUAGES = ["de"]


def _entries(po: Path) -> list[dict]:
    """The .po file's entries: msgctxt, msgid, msgid_plural, msgstr (list), flags."""
    entries: list[dict] = []
    entry: dict | None = None
    field = ""
    for line in po.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry = None
            continue
        if entry is None:
            entry = {"msgctxt": None, "msgid": "", "msgid_plural": None, "msgstr": {}, "flags": []}
        if line.startswith("#,"):
            entry["flags"] += [flag.strip() for flag in line[2:].split(",")]
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (\".*\")$", line)
        if match:
            field = match[1]
            value = ast.literal_eval(match[3])
            if field.startswith("msgstr"):
                entry["msgstr"][int(match[2] or 0)] = value
            else:
                entry[field] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field.startswith("msgstr"):
                index = int(field[7:-1]) if "[" in field else 0
                entry["msgstr"][index] += value
            else:
                entry[field] += value
    return entries


# The templates' and Python's words, and the desk scripts' (JavaScriptCatalog).
DOMAINS = ["django", "djangojs"]
CATALOGUES = [(language, domain) for language in LANGUAGES for domain in DOMAINS]


def _messages(language: str, domain: str = "django") -> list[dict]:
    po = LOCALE / language / "LC_MESSAGES" / f"{domain}.po"
    return [e for e in _entries(po) if e["msgid"] != ""]


def test_every_message_is_translated_and_none_is_fuzzy():
    assert len(_messages("de")) > 1000 and _messages("de", "djangojs")
    for language, domain in CATALOGUES:
        messages = _messages(language, domain)
        untranslated = [e["msgid"] for e in messages if not all(e["msgstr"].values())]
        fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
        plurals_short = [e["msgid"] for e in messages if e["msgid_plural"] and len(e["msgstr"]) < 2]
        assert untranslated == [] and fuzzy == [] and plurals_short == []


def test_placeholders_survive_translation():
    for language, domain in CATALOGUES:
        for e in _messages(language, domain):
            wanted = sorted(set(re.findall(r"%\(\w+\)[sd]|\{\w+\}", e["msgid"])))
            for text in e["msgstr"].values():
                assert sorted(set(re.findall(r"%\(\w+\)[sd]|\{\w+\}", text))) == wanted, e["msgid"]


def test_the_compiled_catalogue_matches_the_source():
    for language, domain in CATALOGUES:
        with (LOCALE / language / "LC_MESSAGES" / f"{domain}.mo").open("rb") as mo:
            compiled = gettext.GNUTranslations(mo)
        catalog = {k: v for k, v in compiled._catalog.items() if k != ""}  # type: ignore[attr-defined]
        expected = {}
        for e in _messages(language, domain):
            msgid = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
            if e["msgid_plural"] is None:
                expected[msgid] = e["msgstr"][0]
            else:
                for index, text in e["msgstr"].items():
                    expected[(msgid, index)] = text
        assert catalog == expected, "run `make messages` to compile the .po file"


# -- templates -----------------------------------------------------------------------------

# Words that are the same in every language: the product, units and codes.
ALLOWED_WORDS = {"Caseloop", "CSAT", "NPS", "FCR", "SLA", "CSV", "JSON", "URL", "ID", "OK"}
VISIBLE_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt", "hx-confirm", "data-confirm")
TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)


def _outside_translation(source: str) -> str:
    text = re.sub(r"{% comment %}.*?{% endcomment %}", " ", source, flags=re.S)
    text = re.sub(r"{% blocktranslate\b.*?{% endblocktranslate %}", " ", text, flags=re.S)
    text = re.sub(r"{% translate .*?%}", " ", text)
    # Code samples and the attributes a page sets on <body> are not prose.
    text = re.sub(r"<(script|style|code)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"{% block body_attrs %}.*?{% endblock %}", " ", text, flags=re.S)
    return text


def _english_words(text: str) -> list[str]:
    text = re.sub(r"&[a-zA-Z]+;|&#\d+;", " ", TAG.sub(" ", text))
    return [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text) if w not in ALLOWED_WORDS]


def _untranslated(path: Path) -> list[str]:
    text = _outside_translation(path.read_text(encoding="utf-8"))
    found = []
    if path.suffix == ".html":
        for tag in re.findall(r"<[a-zA-Z](?:[^>\"']|\"[^\"]*\"|'[^']*')*>", text):
            for name, value in re.findall(r"(?<![\w-])([\w-]+)=\"([^\"]*)\"", tag):
                if name in VISIBLE_ATTRIBUTES and _english_words(value):
                    found.append(f'{name}="{value}"')
        text = re.sub(r"<[!/a-zA-Z](?:[^>\"']|\"[^\"]*\"|'[^']*')*>", " ", text)
    words = _english_words(text)
    if words:
        found.append(" ".join(words))
    return found


def test_templates_show_no_text_outside_translation_tags():
    templates = [
        path
        for path in SRC.rglob("templates/**/*")
        if path.suffix in (".html", ".txt") and path.is_file()
    ]
    assert len(templates) > 80
    leftovers = {
        str(path.relative_to(SRC)): words for path in templates if (words := _untranslated(path))
    }
    assert leftovers == {}
