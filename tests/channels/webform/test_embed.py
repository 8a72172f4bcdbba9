import re
from pathlib import Path

import pytest
from django.test import Client

from caseloop.cases.models import Case
from caseloop.channels.webform.models import WebForm
from tests.builders import fresh_address

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop_form():
    return WebForm.objects.create(
        key="shop", name="Shop help", allowed_origins="https://shop.example\nhttps://b.example/"
    )


def test_the_embedded_form_may_be_framed_by_its_allowed_origins_only(client, shop_form):
    response = client.get("/channels/form/shop/embed/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    policy = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    assert "frame-ancestors 'self' https://shop.example https://b.example" in policy
    # The rest of the desk's strict policy holds inside the frame too.
    assert "script-src 'self'" in policy and "object-src 'none'" in policy
    assert "<script>" not in response.content.decode()
    assert 'src="/static/webform/frame.js"' in response.content.decode()


def test_the_full_page_form_still_refuses_framing(client):
    assert client.get("/channels/form/")["X-Frame-Options"] == "DENY"


def test_the_embedded_form_submits_from_a_third_party_frame_without_a_csrf_cookie(shop_form):
    frame = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    page = frame.get("/channels/form/shop/embed/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    frame.cookies.clear()  # a cross-site iframe gets no first-party cookies
    response = frame.post(
        "/channels/form/shop/embed/",
        {
            "email": "bo@example.com",
            "subject": "Size chart",
            "message": "Which size?",
            "form_token": token,
        },
        follow=True,
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.reference in response.content.decode()
    assert "X-Frame-Options" not in response.headers
    assert case.messages.first().metadata["form"] == "shop"


def test_an_embedded_post_without_a_valid_form_token_is_refused(shop_form):
    frame = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    response = frame.post(
        "/channels/form/shop/embed/",
        {"email": "bo@example.com", "subject": "x", "message": "y", "form_token": "forged"},
    )
    assert response.status_code == 400 and not Case.objects.exists()


def test_a_token_from_another_form_is_refused(shop_form):
    WebForm.objects.create(key="other")
    frame = Client(REMOTE_ADDR=fresh_address())
    page = frame.get("/channels/form/other/embed/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page).group(1)
    response = frame.post(
        "/channels/form/shop/embed/",
        {"email": "bo@example.com", "subject": "x", "message": "y", "form_token": token},
    )
    assert response.status_code == 400


def test_unknown_or_inactive_forms_are_404(client, shop_form):
    shop_form.is_active = False
    shop_form.save()
    assert client.get("/channels/form/shop/embed/").status_code == 404
    assert client.get("/channels/form/nope/").status_code == 404


def test_the_one_tag_embed_script_is_served_as_a_static_file(client):
    from django.contrib.staticfiles import finders

    path = finders.find("webform/embed.js")
    source = Path(path).read_text()
    assert "/channels/form/" in source and "data-form" in source
