import os

import pytest

os.environ.setdefault("CASELOOP_TESTING", "1")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _settings_read_afresh():
    """Each test's database starts over, so nothing read from another test's may be kept."""
    from caseloop.lib.settings_cache import settings_forget

    settings_forget()
    yield
    settings_forget()


@pytest.fixture
def api(client):
    """The Django test client, with JSON helpers for the API."""
    import json

    class Api:
        def __init__(self, client):
            self.client = client

        def get(self, path, headers=None, **params):
            return self.client.get(path, params, headers=headers or {})

        def post(self, path, data=None, headers=None):
            return self.client.post(
                path, json.dumps(data or {}), content_type="application/json", headers=headers or {}
            )

        def patch(self, path, data=None, headers=None):
            return self.client.patch(
                path, json.dumps(data or {}), content_type="application/json", headers=headers or {}
            )

    return Api(client)


def pytest_collection_modifyitems(items):
    # Tests that start a real Dovecot answer to `-k dovecot`, so `make test-fast` can leave
    # them out on a machine without the Debian package.
    for item in items:
        if "dovecot" in getattr(item, "fixturenames", ()):
            item.extra_keyword_matches.add("dovecot")
