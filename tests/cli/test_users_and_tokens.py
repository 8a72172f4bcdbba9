import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from caseloop.accounts.models import User
from caseloop.accounts.services import token_authenticate
from tests.builders import make_team

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_createuser_makes_a_user_with_role_tier_team_and_password(client):
    team = make_team(name="Escalations")
    output = run(
        "createuser",
        "--username=dana",
        "--email=dana@desk.test",
        "--role=agent",
        "--tier=2",
        "--password=long-enough-pw",
        "--team=escalations",
    )
    user = User.objects.get(username="dana")
    assert f"created agent dana (id {user.pk})" in output
    assert (user.role, user.tier, user.email) == ("agent", 2, "dana@desk.test")
    assert list(user.teams.all()) == [team]
    assert client.login(username="dana", password="long-enough-pw")


def test_createuser_refuses_bad_input_with_a_clear_error():
    with pytest.raises(CommandError, match="invalid choice"):
        run("createuser", "--username=x", "--role=wizard")
    run("createuser", "--username=taken")
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", "--username=taken")
    with pytest.raises(CommandError, match="no team 'ghosts'"):
        run("createuser", "--username=y", "--team=ghosts")


def test_token_prints_a_working_token_once(api):
    run("createuser", "--username=integrator", "--role=agent")
    token = run("token", "--username=integrator").strip()
    assert token_authenticate(token=token) == User.objects.get(username="integrator")
    second = run("token", "--username=integrator").strip()
    assert second != token
    response = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_for_an_unknown_user_is_an_error():
    with pytest.raises(CommandError, match="no user 'ghost'"):
        run("token", "--username=ghost")


@pytest.mark.parametrize(
    "database",
    [
        pytest.param({}, id="a-data-dir-without-a-desk"),
        pytest.param({"DATABASE_URL": "postgres://caseloop@127.0.0.1:1/desk"}, id="no-server"),
    ],
)
def test_token_without_the_desks_database_is_a_one_line_error(tmp_path, database):
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "CASELOOP_TESTING")
    }
    env.update(CASELOOP_DATA_DIR=str(tmp_path / "elsewhere"), **database)
    done = subprocess.run(
        [sys.executable, "-m", "caseloop.cli", "token", "--username", "agent"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("CommandError: cannot read the desk's database (")
    assert "CASELOOP_DATA_DIR" in line and "caseloop migrate" in line
