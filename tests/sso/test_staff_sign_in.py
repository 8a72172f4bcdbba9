"""Agents, managers and admins signing in through a real OpenID Connect provider: the role
and teams follow the provider's groups at every sign-in."""

import pytest

from caseloop.accounts.models import Role, SsoIdentity, User
from caseloop.accounts.services import user_create
from tests.builders import make_team
from tests.sso.conftest import sign_in_through

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams():
    return {
        slug: make_team(name=slug.replace("-", " ").title()) for slug in ("front-line", "leads")
    }


def test_the_sign_in_page_offers_the_provider(client, sso):
    page = client.get("/login/")
    assert b"Sign in with Northwind ID" in page.content
    assert b'href="/login/sso/"' in page.content


def test_an_agent_signs_in_with_the_role_and_team_of_their_group_and_lands_on_the_inbox(
    client, sso, teams
):
    sso.person(
        "alice",
        email="alice@northwind.test",
        email_verified=True,
        given_name="Alice",
        family_name="Ng",
        groups=["support", "everyone"],
    )
    response = sign_in_through(client, sso, "alice")
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    user = User.objects.get(email="alice@northwind.test")
    assert (user.role, user.is_staff, user.get_full_name()) == (Role.AGENT, False, "Alice Ng")
    assert list(user.teams.values_list("slug", flat=True)) == ["front-line"]
    assert not user.has_usable_password()
    assert SsoIdentity.objects.get(user=user).issuer == sso.issuer
    inbox = client.get("/inbox/")
    assert inbox.status_code == 200 and inbox.wsgi_request.user == user


def test_a_changed_group_changes_the_role_and_teams_at_the_next_sign_in(client, sso, teams):
    sso.person("bram", email="bram@northwind.test", email_verified=True, groups=["support"])
    sign_in_through(client, sso, "bram")
    user = User.objects.get(email="bram@northwind.test")
    own_team = make_team(name="Night shift", members=[user])  # no group maps to it
    client.post("/logout/")

    sso.person("bram", email="bram@northwind.test", email_verified=True, groups=["support-leads"])
    assert sign_in_through(client, sso, "bram")["Location"] == "/inbox/"
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser) == (Role.MANAGER, True, False)
    assert set(user.teams.values_list("slug", flat=True)) == {"leads", own_team.slug}
    assert client.get("/manager/").status_code == 200
    client.post("/logout/")

    sso.person(
        "bram",
        email="bram@northwind.test",
        email_verified=True,
        groups=["support", "support-admins"],
    )
    sign_in_through(client, sso, "bram")
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser) == (Role.ADMIN, True, True)
    assert set(user.teams.values_list("slug", flat=True)) == {"front-line", own_team.slug}
    assert User.objects.filter(email="bram@northwind.test").count() == 1


def test_an_existing_user_is_matched_by_a_verified_email(client, sso, teams):
    carol = user_create(role=Role.MANAGER, username="carol", email="Carol@Northwind.test")
    sso.person("c.jones", email="carol@northwind.test", email_verified=True, groups=["support"])
    sign_in_through(client, sso, "c.jones")
    assert client.get("/inbox/").wsgi_request.user == carol
    carol.refresh_from_db()
    assert carol.role == Role.AGENT  # the provider's groups decide, not the old local role
    assert User.objects.count() == 1


def test_an_unverified_email_matches_nobody_and_makes_nobody(client, sso):
    user_create(username="dev", email="dev@northwind.test")
    sso.person("dev", email="dev@northwind.test", email_verified=False, groups=["support"])
    response = sign_in_through(client, sso, "dev")
    assert response.status_code == 403
    assert b"did not vouch for your email address" in response.content
    assert User.objects.count() == 1 and not SsoIdentity.objects.exists()


def test_the_link_to_the_subject_outlasts_a_changed_address(client, sso):
    sso.person("erin", email="erin@northwind.test", email_verified=True, groups=["support"])
    sign_in_through(client, sso, "erin")
    client.post("/logout/")
    sso.person("erin", email="erin.k@northwind.test", email_verified=True, groups=["support"])
    sign_in_through(client, sso, "erin")
    assert User.objects.count() == 1
    assert client.get("/inbox/").wsgi_request.user.email == "erin@northwind.test"


def test_an_explicit_next_page_is_where_the_sign_in_ends(client, sso):
    sso.person("finn", email="finn@northwind.test", email_verified=True, groups=["support"])
    response = sign_in_through(client, sso, "finn", start="/login/sso/?next=/customers/")
    assert response["Location"] == "/customers/"
    offsite = sign_in_through(client, sso, "finn", start="/login/sso/?next=https://evil.test/")
    assert offsite["Location"] == "/inbox/"


def test_no_unknown_users_are_made_when_that_is_off(client, settings, sso):
    settings.OIDC_CREATE_USERS = False
    sso.person("gus", email="gus@northwind.test", email_verified=True, groups=["support"])
    response = sign_in_through(client, sso, "gus")
    assert response.status_code == 403 and b"no account on this desk" in response.content
    user_create(username="gus", email="gus@northwind.test")
    assert sign_in_through(client, sso, "gus")["Location"] == "/inbox/"
