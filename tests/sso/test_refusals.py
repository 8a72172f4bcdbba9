"""What single sign-on refuses: people in no mapped group, deactivated accounts, answers
that no sign-in here started, ID tokens signed by another key; and all of it off when
single sign-on is not configured."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from joserfc.jwk import RSAKey

from caseloop.accounts.models import SsoIdentity, User
from caseloop.accounts.services import user_create
from caseloop.lib.logjson import JsonFormatter
from tests.sso.conftest import CLIENT_SECRET, sign_in_through, sso_settings

pytestmark = pytest.mark.django_db


def signed_in(client) -> bool:
    return client.get("/inbox/").wsgi_request.user.is_authenticated


def test_someone_in_no_mapped_group_is_refused_with_a_clear_page(client, sso):
    sso.person("hana", email="hana@northwind.test", email_verified=True, groups=["marketing"])
    response = sign_in_through(client, sso, "hana")
    assert response.status_code == 403
    assert b"in no group that may use this desk" in response.content
    assert b"Not signed in with Northwind ID" in response.content
    assert not signed_in(client) and not User.objects.exists()


def test_losing_the_last_mapped_group_refuses_the_next_sign_in(client, sso):
    sso.person("ivan", email="ivan@northwind.test", email_verified=True, groups=["support"])
    sign_in_through(client, sso, "ivan")
    client.post("/logout/")
    sso.person("ivan", email="ivan@northwind.test", email_verified=True, groups=[])
    assert sign_in_through(client, sso, "ivan").status_code == 403
    assert not signed_in(client)


def test_a_deactivated_local_user_stays_refused(client, sso):
    user = user_create(username="jo", email="jo@northwind.test")
    user.is_active = False
    user.save(update_fields=["is_active"])
    sso.person("jo", email="jo@northwind.test", email_verified=True, groups=["support-admins"])
    response = sign_in_through(client, sso, "jo")
    assert response.status_code == 403 and b"deactivated" in response.content
    user.refresh_from_db()
    assert not user.is_active and not user.is_superuser and not signed_in(client)


def test_a_forged_state_is_refused(client, sso):
    sso.person("kim", email="kim@northwind.test", email_verified=True, groups=["support"])
    started = client.get("/login/sso/")
    answer = urlsplit(sso.authorize(started["Location"], login="kim"))
    query = {key: values[0] for key, values in parse_qs(answer.query).items()}
    query["state"] = "forged-" + query["state"][7:]
    response = client.get(f"/login/sso/callback/?{urlencode(query)}")
    assert response.status_code == 401
    assert b"does not belong to a sign-in started in this browser" in response.content
    assert not signed_in(client) and not User.objects.exists()


def test_an_answer_is_used_once_and_only_in_the_browser_that_asked(client, sso):
    sso.person("lee", email="lee@northwind.test", email_verified=True, groups=["support"])
    started = client.get("/login/sso/")
    answer = sso.authorize(started["Location"], login="lee").removeprefix("http://testserver")
    other_browser = Client()
    assert other_browser.get(answer).status_code == 401
    assert client.get(answer).status_code == 302
    client.post("/logout/")
    assert client.get(answer).status_code == 401
    assert not signed_in(client)


def test_an_error_from_the_provider_is_refused(client, sso):
    started = client.get("/login/sso/")
    state = parse_qs(urlsplit(started["Location"]).query)["state"][0]
    response = client.get(f"/login/sso/callback/?error=access_denied&state={state}")
    assert response.status_code == 401
    assert b"Northwind ID did not sign you in (access_denied)" in response.content


class _KeysHandler(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self):  # noqa: N802 - the standard library's name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def other_keys():
    """A loopback server publishing another RSA key under the provider's key id."""
    key = RSAKey.generate_key(2048)
    published = {**key.as_dict(private=False), "kid": "sso-tests", "use": "sig", "alg": "RS256"}
    handler = type("Handler", (_KeysHandler,), {"body": json.dumps({"keys": [published]}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks"
    server.shutdown()
    server.server_close()


def endpoints_by_hand(settings, issuer: str, jwks_url: str) -> None:
    sso_settings(
        settings,
        issuer,
        OIDC_AUTHORIZATION_URL=f"{issuer}/auth",
        OIDC_TOKEN_URL=f"{issuer}/token",
        OIDC_JWKS_URL=jwks_url,
        OIDC_USERINFO_URL=f"{issuer}/me",
    )


def test_an_id_token_signed_by_another_key_is_refused(client, settings, oidc_provider, other_keys):
    oidc_provider.person(
        "mo", email="mo@northwind.test", email_verified=True, groups=["support-admins"]
    )
    endpoints_by_hand(settings, oidc_provider.issuer, other_keys)
    response = sign_in_through(client, oidc_provider, "mo")
    assert response.status_code == 401
    assert b"identity token from Northwind ID could not be verified" in response.content
    assert not signed_in(client) and not User.objects.exists()
    # The same endpoints with the provider's own keys sign in: the key made the difference.
    endpoints_by_hand(settings, oidc_provider.issuer, f"{oidc_provider.issuer}/jwks")
    assert sign_in_through(client, oidc_provider, "mo")["Location"] == "/inbox/"
    assert User.objects.get(email="mo@northwind.test").is_superuser


def test_an_unreachable_provider_is_a_clear_502(client, settings, sso):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    response = client.get("/login/sso/")
    assert response.status_code == 502 and b"cannot be reached" in response.content


def test_off_when_not_configured_no_button_and_no_urls(client, settings):
    settings.OIDC_CLIENT_ID = ""
    settings.OIDC_ISSUER = ""
    page = client.get("/login/")
    assert page.status_code == 200 and b"Sign in with" not in page.content
    assert client.get("/login/sso/").status_code == 404
    assert client.get("/login/sso/callback/?code=abc&state=def").status_code == 404


def test_no_token_code_or_secret_reaches_the_logs(client, sso, caplog):
    caplog.set_level(logging.DEBUG)
    sso.person("nia", email="nia@northwind.test", email_verified=True, groups=["support"])
    started = client.get("/login/sso/")
    answer = sso.authorize(started["Location"], login="nia")
    code = parse_qs(urlsplit(answer).query)["code"][0]
    assert client.get(answer.removeprefix("http://testserver")).status_code == 302
    sso.person("nia", email="nia@northwind.test", email_verified=True, groups=["outsiders"])
    assert sign_in_through(client, sso, "nia").status_code == 403
    # httpx and httpcore are the test's browser at the provider, not the desk.
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith(("httpx", "httpcore"))
    )
    assert "sso: sign-in refused: sso_refused" in logged
    for secret in (CLIENT_SECRET, code, "eyJ"):
        assert secret not in logged
    line = JsonFormatter().format(
        logging.LogRecord("uvicorn.access", logging.INFO, "", 0, "GET %s", (answer,), None)
    )
    assert code not in line and CLIENT_SECRET not in JsonFormatter().format(
        logging.LogRecord("x", logging.ERROR, "", 0, "secret was %s", (CLIENT_SECRET,), None)
    )
    assert SsoIdentity.objects.count() == 1
