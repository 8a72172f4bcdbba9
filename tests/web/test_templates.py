"""Template hygiene: Django's {# … #} comment is one line only; a comment spread over lines
is printed on the page as text."""

from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "caseloop"


def test_no_template_comment_spans_lines():
    broken = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.html")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]
    assert broken == []
