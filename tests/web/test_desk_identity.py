"""The desk's own name, colour and logo: set by an admin in the desk's settings (a colour
too light to read is refused, a logo must be an image), shown on the customer's pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseloop.accounts.models import DeskIdentity, Role
from caseloop.lib.colour import contrast_with_white
from caseloop.web.models import SettingsChange
from tests.builders import make_user

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_contrast_is_measured_as_wcag_does():
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    # The well-known lightest grey that passes on white.
    assert round(contrast_with_white("#767676"), 2) == 4.54


def test_an_admin_names_colours_and_brands_the_desk_and_customers_see_it(
    client, tmp_path, settings
):
    settings.MEDIA_ROOT = str(tmp_path)
    client.force_login(make_user(role=Role.ADMIN))
    url = reverse("web:settings_new", args=["desk"])
    too_light = client.post(url, {"name": "Northwind Home", "colour": "#ffd700"})
    assert (
        too_light.status_code == 422 and "too light to read on white" in too_light.content.decode()
    )
    not_image = client.post(
        url,
        {
            "name": "Northwind Home",
            "colour": "#7a1f5c",
            "logo": SimpleUploadedFile("logo.svg", b"<svg onload=alert(1)>", "image/svg+xml"),
        },
    )
    assert not_image.status_code == 422 and "PNG, JPEG, GIF or WebP" in not_image.content.decode()
    made = client.post(
        url,
        {
            "name": "Northwind Home",
            "colour": "#7A1F5C",
            "logo": SimpleUploadedFile("logo.png", PNG, "image/png"),
        },
    )
    assert made.status_code == 302, made.content.decode()[:2000]
    desk = DeskIdentity.current()
    assert (desk.name, desk.colour, bool(desk.logo)) == ("Northwind Home", "#7a1f5c", True)
    assert SettingsChange.objects.filter(kind="desk").exists()
    again = client.post(url, {"name": "Other", "colour": "#000000"})
    assert again.status_code == 422 and DeskIdentity.objects.count() == 1

    client.logout()
    theme = client.get(reverse("web:desk_theme"))
    assert theme.status_code == 200 and "--accent: #7a1f5c;" in theme.content.decode()
    assert (
        client.get(reverse("web:desk_theme"), HTTP_IF_NONE_MATCH=theme["ETag"]).status_code == 304
    )
    logo = client.get(reverse("web:desk_logo"))
    assert logo.status_code == 200 and logo["Content-Type"] == "image/png"
    assert b"".join(logo.streaming_content) == PNG
    help_centre = client.get("/help/").content.decode()
    assert reverse("web:desk_logo") in help_centre and "Northwind Home" in help_centre
    assert reverse("web:desk_theme") in help_centre


def test_no_logo_is_a_404_and_agents_may_not_change_the_identity(client):
    assert client.get(reverse("web:desk_logo")).status_code == 404
    client.force_login(make_user(role=Role.AGENT))
    response = client.post(reverse("web:settings_new", args=["desk"]), {"name": "X"})
    assert response.status_code in (302, 403)
    assert not DeskIdentity.objects.exists()
