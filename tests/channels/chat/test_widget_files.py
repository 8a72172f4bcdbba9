from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

from caseloop.accounts.models import Role
from caseloop.channels.chat.models import ChatWidget
from tests.builders import make_user


def test_the_widget_is_one_plain_script_that_never_injects_html():
    source = Path(finders.find("chat/widget.js")).read_text()
    assert "data-widget" in source and "/ws/chat/" in source and "localStorage" in source
    assert "innerHTML" not in source and "textContent" in source
    assert finders.find("chat/widget.css")


@pytest.mark.django_db
def test_admins_preview_a_widget_with_the_same_one_tag_a_site_uses(client):
    widget = ChatWidget.objects.create(name="Shop")
    client.force_login(make_user(role=Role.ADMIN))
    page = client.get(f"/channels/chat/preview/{widget.key}/").content.decode()
    assert f'src="/static/chat/widget.js" data-widget="{widget.key}" async></script>' in page
    assert "<script>" not in page
