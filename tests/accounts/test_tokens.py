import hashlib

import pytest

from caseloop.accounts.models import ApiToken
from caseloop.accounts.services import token_authenticate, token_issue, token_revoke
from tests.builders import make_agent

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_its_digest():
    agent = make_agent()
    token = token_issue(user=agent, name="ci")
    stored = ApiToken.objects.get(user=agent)
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.digest, stored.prefix, stored.name)
    assert token.startswith(stored.prefix) and len(stored.prefix) < len(token) // 3
    assert token_authenticate(token=token) == agent


def test_the_api_accepts_a_valid_token_and_refuses_unknown_ones(api):
    agent = make_agent()
    token = token_issue(user=agent)
    ok = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    for bad in [token + "x", "cl_" + "a" * 43, "not-even-shaped-right", ""]:
        response = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad


def test_a_revoked_token_is_refused(api):
    agent = make_agent()
    token = token_issue(user=agent)
    keep = token_issue(user=agent)
    assert token_revoke(user=agent, prefix=token[:10]) == 1
    assert token_authenticate(token=token) is None
    refused = api.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
    assert api.get("/api/v1/cases", headers={"Authorization": f"Bearer {keep}"}).status_code == 200


def test_a_deactivated_users_token_is_refused():
    agent = make_agent()
    token = token_issue(user=agent)
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    assert token_authenticate(token=token) is None


def test_the_session_authenticates_the_browser(client, api):
    agent = make_agent(password="s3cret-pass")
    assert client.login(username=agent.username, password="s3cret-pass")
    assert api.get("/api/v1/cases").status_code == 200
