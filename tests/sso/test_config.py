"""Reading the single sign-on settings: off until configured, and a mistake in them is
reported by name rather than turning into a failed sign-in later."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from caseloop.accounts.models import Role
from caseloop.accounts.sso import sso_config, sso_groups, sso_role_for
from tests.sso.conftest import sso_settings


def test_off_without_a_client_id_or_a_provider(settings):
    sso_settings(settings, "https://id.example.com", OIDC_CLIENT_ID="")
    assert sso_config() is None
    sso_settings(settings, "")
    assert sso_config() is None


def test_the_mapping_is_read_in_order(settings):
    sso_settings(
        settings,
        "https://id.example.com/realms/desk",
        OIDC_ROLES=" support-admins = admin ,\nsupport=agent,,",
        OIDC_TEAMS="billing=billing-team",
    )
    config = sso_config()
    assert config.roles == (("support-admins", "admin"), ("support", "agent"))
    assert config.teams == (("billing", "billing-team"),)
    assert config.client_secret not in repr(config)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"OIDC_ROLES": "support=superhero"}, "CASELOOP_OIDC_ROLES"),
        ({"OIDC_ROLES": "support"}, "CASELOOP_OIDC_ROLES"),
        ({"OIDC_ROLES": ""}, "CASELOOP_OIDC_ROLES"),
        ({"OIDC_TEAMS": "billing"}, "CASELOOP_OIDC_TEAMS"),
        ({"OIDC_CLIENT_SECRET": ""}, "CASELOOP_OIDC_CLIENT_SECRET"),
        ({"OIDC_SCOPES": "email profile"}, "CASELOOP_OIDC_SCOPES"),
        ({"OIDC_TOKEN_URL": "https://id.example.com/token"}, "_JWKS_URL"),
    ],
)
def test_a_mistake_is_named(settings, overrides, named):
    sso_settings(settings, "https://id.example.com", **overrides)
    with pytest.raises(ImproperlyConfigured, match=named):
        sso_config()


def test_groups_are_found_under_a_dotted_claim_and_the_highest_role_wins(settings):
    sso_settings(settings, "https://id.example.com", OIDC_ROLES="a=agent,m=manager,c=customer")
    claims = {"realm_access": {"roles": ["c", "m", "a"]}, "group": "a"}
    assert sso_groups(claims=claims, claim="realm_access.roles") == ["c", "m", "a"]
    assert sso_groups(claims=claims, claim="group") == ["a"]
    assert sso_groups(claims=claims, claim="missing.path") == []
    config = sso_config()
    assert sso_role_for(groups=["c", "m", "a"], config=config) == Role.MANAGER
    assert sso_role_for(groups=["c"], config=config) == Role.CUSTOMER
    assert sso_role_for(groups=["x"], config=config) is None
