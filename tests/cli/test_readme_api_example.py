"""The README's API walkthrough, run as written: the token from `caseloop token`, each curl
command sent through the test client, each pipe through the program it names."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from caseloop.cases.models import Case
from tests.builders import make_agent

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def api_example() -> list[str]:
    """The shell commands of the README's first sh block under "## The API", one per line."""
    section = README.read_text().split("\n## The API", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line.strip() for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], text)


def curl(client, argv: list[str]):
    assert argv[0] == "curl"
    method, headers, data, url = "GET", {}, None, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-s":
            continue
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(args)
            method = "POST" if method == "GET" else method
        else:
            url = arg
    parts = urlsplit(url if "://" in url else f"http://{url}")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    content_type = headers.pop("Content-Type", "application/x-www-form-urlencoded")
    response = client.generic(method, path, data or "", content_type=content_type, headers=headers)
    assert response.status_code < 400, (" ".join(argv), response.status_code, response.content)
    return response.content.decode()


def run(client, command: str, variables: dict[str, str]) -> str:
    """What `command` prints: `caseloop …` as the management command, `curl …` through the
    client, `… | python3 -c CODE` through Python."""
    first, *piped = command.split(" | ")
    argv = shlex.split(expand(first, variables))
    if argv[0].endswith("/caseloop"):
        out = StringIO()
        call_command(*argv[1:], stdout=out)
        output = out.getvalue()
    else:
        output = curl(client, argv)
    for step in piped:
        program = shlex.split(step)
        assert program[:2] == ["python3", "-c"], step
        output = subprocess.run(
            [sys.executable, "-c", program[2]],
            input=output,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return output


def test_the_readme_api_walkthrough_works_on_a_fresh_case(client):
    make_agent(username="agent")
    variables: dict[str, str] = {}
    for command in api_example():
        assignment = re.fullmatch(r"(\w+)=\$\((.*)\)", command)
        if assignment:
            variables[assignment.group(1)] = run(client, assignment.group(2), variables).strip()
        else:
            run(client, command, variables)
    case = Case.objects.get(pk=int(variables["CASE"]))
    assert case.subject == "Refund" and case.status == "solved"
