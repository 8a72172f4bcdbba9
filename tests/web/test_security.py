import re

import pytest

from tests.builders import make_agent, make_case, make_customer, make_user

pytestmark = pytest.mark.django_db


def forms_without_csrf(html: str) -> list[str]:
    forms = re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I)
    return [
        f[:120]
        for f in forms
        if re.search(r'method="post"', f, re.I) and "csrfmiddlewaretoken" not in f
    ]


def test_every_post_form_carries_a_csrf_token(client):
    manager = make_user(role="manager")
    client.force_login(manager)
    case = make_case()
    pages = ["/inbox/", "/inbox/?queue=all", f"/cases/{case.pk}/", "/manager/"]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "<form" in html
        assert forms_without_csrf(html) == [], page
    client.logout()
    for page in ["/portal/sign-in/", "/login/", "/portal/link/abc/"]:
        assert forms_without_csrf(client.get(page).content.decode()) == [], page


def test_posts_without_a_csrf_token_are_refused(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_agent())
    case = make_case()
    assert strict.post(f"/cases/{case.pk}/reply/", {"text": "hi"}).status_code == 403
    assert strict.post("/portal/sign-in/", {"email": "a@example.com"}).status_code == 403


def test_security_headers_and_cookie_flags(client, settings):
    response = client.get("/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_pages_use_no_inline_script_and_no_external_assets(client):
    client.force_login(make_agent())
    case = make_case(customer=make_customer(name="<script>alert(1)</script>"))
    for page in ["/inbox/?queue=all", f"/cases/{case.pk}/"]:
        html = client.get(page).content.decode()
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
        assert "alert(1)</script>" not in html
        assert not re.search(r'(src|href)="https?://', html)


def test_form_controls_have_labels(client):
    client.force_login(make_agent())
    case = make_case()
    for page in ["/inbox/", f"/cases/{case.pk}/"]:
        html = client.get(page).content.decode()
        ids = set(
            re.findall(
                r'<(?:input|select|textarea)\b(?![^>]*type="(?:hidden|submit)")[^>]*\bid="([^"]+)"',
                html,
            )
        )
        labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
        assert ids - labelled == set(), page


def test_managers_only_on_the_team_page(client):
    client.force_login(make_agent())
    assert client.get("/manager/").status_code == 403
