"""Every response carries the strict Content-Security-Policy; only the embeddable web form
may be framed, and only by the sites it names."""

import pytest
from django.core.cache import cache

from caseloop.channels.chat.models import ChatWidget
from caseloop.channels.webform.models import WebForm
from caseloop.lib.csp import DEFAULT_HEADER, policy_for, policy_parse
from tests.builders import make_agent, make_case, make_customer, make_customer_user, make_user

pytestmark = pytest.mark.django_db

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def test_the_default_policy_is_the_strict_one():
    assert DEFAULT_HEADER == STRICT


@pytest.mark.parametrize(
    "path",
    ["/login/", "/portal/sign-in/", "/help/", "/channels/form/", "/api/docs", "/admin/login/"],
)
def test_public_pages_carry_the_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200, path
    assert response["Content-Security-Policy"] == STRICT


def test_agent_pages_carry_the_policy(client):
    agent = make_agent()
    case = make_case()
    client.force_login(agent)
    for path in ("/inbox/", f"/cases/{case.pk}/", f"/cases/{case.pk}/timeline/", "/help/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == STRICT, path


def test_the_portal_carries_the_policy(client):
    customer = make_customer()
    case = make_case(customer=customer)
    client.force_login(make_customer_user(customer=customer))
    for path in ("/portal/", f"/portal/cases/{case.pk}/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Content-Security-Policy"] == STRICT, path


def test_the_chat_widget_preview_carries_the_policy(client):
    ChatWidget.objects.create(key="shop", name="Shop")
    client.force_login(make_user(role="admin"))
    response = client.get("/channels/chat/preview/shop/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == STRICT


def test_errors_redirects_and_json_carry_the_policy(client, api):
    for response in (
        client.get("/no-such-page/"),
        client.get("/inbox/"),  # a redirect to sign in
        api.get("/api/v1/cases"),  # 401
        client.get("/api/openapi.json"),
    ):
        assert response["Content-Security-Policy"] == STRICT


def test_only_the_embeddable_form_may_be_framed_and_by_the_sites_it_names(client):
    WebForm.objects.create(key="shop", name="Shop", allowed_origins="https://shop.example")
    policy = policy_parse(client.get("/channels/form/shop/embed/")["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "'self' https://shop.example"
    assert {k: v for k, v in policy.items() if k != "frame-ancestors"} == {
        k: v for k, v in policy_parse(STRICT).items() if k != "frame-ancestors"
    }
    standalone = client.get("/channels/form/shop/")
    assert policy_parse(standalone["Content-Security-Policy"])["frame-ancestors"] == "'none'"


def test_a_complete_policy_of_a_view_is_kept_and_a_partial_one_completed():
    assert policy_for("default-src 'none'; sandbox") == "default-src 'none'; sandbox"
    completed = policy_parse(policy_for("frame-ancestors https://a.example"))
    assert completed["frame-ancestors"] == "https://a.example"
    assert completed["script-src"] == "'self'"
    assert policy_for("") == STRICT


def test_no_page_template_has_inline_script_style_or_handlers():
    """What the policy would refuse: inline <script> and <style>, style="" and on*="" ."""
    import re
    from pathlib import Path

    import caseloop

    root = Path(caseloop.__file__).parent
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>|<style\b|"
        r"\sstyle=|\son[a-z]+=|javascript:",
        re.IGNORECASE,
    )
    offenders = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("templates/**/*.html")
        for match in inline.finditer(path.read_text())
    ]
    # The chat preview shows the embed snippet as escaped text, which is no script.
    assert offenders == []
