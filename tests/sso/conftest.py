"""A real OpenID Connect provider for the single sign-on tests: the npm package
oidc-provider (`make test-tools` installs it), run by node on a loopback port, with people
whose groups a test sets and changes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = Path(__file__).with_name("provider.mjs")
PROVIDER_PACKAGE = ROOT / "node_modules" / "oidc-provider"
CLIENT_ID = "caseloop-desk"
CLIENT_SECRET = "desk-client-secret-7f3a9c1e"
REDIRECT_URI = "http://testserver/login/sso/callback/"


class Provider:
    """The running provider: its issuer, the people it knows, and a browser for its pages."""

    def __init__(self, issuer: str, accounts_file: Path) -> None:
        self.issuer = issuer
        self.accounts_file = accounts_file

    def person(self, login: str, **claims) -> None:
        """Make `login` known to the provider with these claims (groups, email, …), or
        replace what it knew of them; read by the provider at each request."""
        people = json.loads(self.accounts_file.read_text())
        people[login] = claims
        self.accounts_file.write_text(json.dumps(people))

    def authorize(self, authorize_url: str, *, login: str) -> str:
        """Sign in as `login` on the provider's own pages (login, then consent), as a fresh
        browser would, and return the URL the provider sends the browser back to."""
        with httpx.Client(timeout=10) as browser:
            response = browser.get(authorize_url)
            for _ in range(12):
                if response.is_redirect:
                    location = urljoin(str(response.url), response.headers["location"])
                    if location.startswith(REDIRECT_URI):
                        return location
                    response = browser.get(location)
                    continue
                assert response.status_code == 200, response.text[:2000]
                action = re.search(r'<form[^>]*action="([^"]+)"', response.text)
                prompt = re.search(r'name="prompt" value="(\w+)"', response.text)
                assert action and prompt, response.text[:2000]
                form = {"prompt": prompt.group(1)}
                if prompt.group(1) == "login":
                    form |= {"login": login, "password": "any password"}
                response = browser.post(urljoin(str(response.url), action.group(1)), data=form)
        raise AssertionError("the provider never sent the browser back")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    node = shutil.which("node")
    if node is None or not PROVIDER_PACKAGE.exists():
        message = "run `make test-tools`: the single sign-on tests need node and oidc-provider"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    accounts_file = tmp_path_factory.mktemp("oidc") / "accounts.json"
    accounts_file.write_text("{}")
    process = subprocess.Popen(
        [node, str(PROVIDER_SCRIPT), str(accounts_file), CLIENT_ID, CLIENT_SECRET, REDIRECT_URI],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        issuer = (process.stdout.readline() if process.stdout else "").strip()
        assert issuer.startswith("http://127.0.0.1:"), "the provider did not start"
        yield Provider(issuer, accounts_file)
    finally:
        process.terminate()
        process.wait(timeout=10)


def sso_settings(settings, issuer: str, **overrides) -> None:
    """Single sign-on on, through the provider at `issuer`, with the desk's usual mapping."""
    values = {
        "SITE_URL": "http://testserver",
        "OIDC_PROVIDER_NAME": "Northwind ID",
        "OIDC_ISSUER": issuer,
        "OIDC_DISCOVERY_URL": "",
        "OIDC_AUTHORIZATION_URL": "",
        "OIDC_TOKEN_URL": "",
        "OIDC_JWKS_URL": "",
        "OIDC_USERINFO_URL": "",
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_SCOPES": "openid email profile groups",
        "OIDC_GROUPS_CLAIM": "groups",
        "OIDC_ROLES": "support-admins=admin,support-leads=manager,support=agent",
        "OIDC_TEAMS": "support=front-line,support-leads=leads",
        "OIDC_CUSTOMERS": False,
        "OIDC_CREATE_USERS": True,
        "OIDC_TRUST_EMAIL": False,
    }
    values.update(overrides)
    for name, value in values.items():
        setattr(settings, name, value)


@pytest.fixture
def sso(settings, oidc_provider):
    """The desk with single sign-on through the test provider."""
    sso_settings(settings, oidc_provider.issuer)
    return oidc_provider


def sign_in_through(client, provider: Provider, login: str, *, start: str = "/login/sso/"):
    """Click "Sign in with …", sign in at the provider as `login`, and bring the provider's
    answer back to the desk; the desk's response to that answer."""
    started = client.get(start)
    assert started.status_code == 302, started.content
    callback = provider.authorize(started["Location"], login=login)
    return client.get(callback.removeprefix("http://testserver"))
