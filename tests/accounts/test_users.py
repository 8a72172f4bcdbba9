import pytest
from django.core.exceptions import ValidationError

from caseloop.accounts.models import Role
from caseloop.accounts.services import user_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "agent_like", "staff", "superuser"),
    [
        (Role.CUSTOMER, False, False, False),
        (Role.AGENT, True, False, False),
        (Role.MANAGER, True, True, False),
        (Role.ADMIN, True, True, True),
    ],
)
def test_roles_decide_desk_and_admin_access(role, agent_like, staff, superuser):
    user = user_create(username=f"u-{role}", role=role, password="pw")
    assert (user.is_agent_like, user.is_staff, user.is_superuser) == (agent_like, staff, superuser)


def test_an_unknown_role_or_a_taken_username_is_refused():
    with pytest.raises(ValueError, match="unknown role"):
        user_create(username="x", role="wizard")
    user_create(username="maya")
    with pytest.raises(ValidationError):
        user_create(username="maya")


def test_a_user_without_a_password_cannot_sign_in(client):
    user_create(username="nopass")
    assert not client.login(username="nopass", password="")
