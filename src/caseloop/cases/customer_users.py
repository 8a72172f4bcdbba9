"""Customer logins, linked to their customer profile by a verified email address.

A customer-role user sees the cases of its customer profile and nothing else, so a login
without a profile sees nothing. However a customer login comes to exist it is linked here,
to the customer whose email contact point is the login's address (a new profile when none
has it). Only a verified address links: an address counts as verified when an admin
creates the login from the command line (`caseloop createuser --role customer --email …`:
they vouch for it) and when the customer signs in through the link emailed to it (the
portal). Accounts and customers sit on one layer and never import each other; this is the
lowest place that sees both.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from caseloop.accounts.models import Role, User
from caseloop.accounts.services import user_create
from caseloop.customers.models import ContactPoint, Customer, CustomerEvent
from caseloop.customers.services import Identity, contact_normalize, customer_find_or_create

from .errors import CaseValidationError

# How an address was verified, recorded on the customer's `login_linked` event.
VERIFIED_BY_ADMIN = "admin"
VERIFIED_BY_EMAILED_LINK = "emailed_link"


@transaction.atomic
def customer_user_link(
    *, user: User, email: str, verified_by: str, actor: User | None = None
) -> Customer:
    """Link the customer login `user` to the customer whose email contact point is the
    verified `email`, creating that profile when nobody has the address. The caller has
    verified the address (see the module's docstring).
    Side effects: maybe a new customer (its `created` event); the user's `customer` (and an
    empty `email`) saved; a `login_linked` customer event."""
    if user.role != Role.CUSTOMER:
        raise CaseValidationError("only customer logins belong to a customer", field="role")
    address = contact_normalize(kind=ContactPoint.Kind.EMAIL, value=email)
    customer = customer_find_or_create(
        identity=Identity(email=address, name=user.get_full_name()), actor=actor
    )
    user.customer = customer
    fields = ["customer"]
    if not user.email:
        user.email = address
        fields.append("email")
    user.save(update_fields=fields)
    CustomerEvent.objects.create(
        customer=customer,
        actor=actor,
        kind="login_linked",
        data={"user": user.pk, "email": address, "verified_by": verified_by},
    )
    return customer


@transaction.atomic
def customer_user_create(
    *,
    email: str,
    verified_by: str,
    username: str = "",
    password: str | None = None,
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
) -> User:
    """A new customer login for the verified `email`, linked to its customer profile (a
    new one when nobody has the address). The username defaults to the address.
    Side effects: the user; those of `customer_user_link`."""
    address = contact_normalize(kind=ContactPoint.Kind.EMAIL, value=email)
    user = user_create(
        username=username or address,
        email=address,
        role=Role.CUSTOMER,
        password=password,
        first_name=first_name,
        last_name=last_name,
    )
    customer_user_link(user=user, email=address, verified_by=verified_by, actor=actor)
    return user


@transaction.atomic
def customer_user_for(*, customer: Customer, email: str) -> User:
    """The login of a customer who just proved they read mail at `email`, a contact point
    of `customer` (the portal's emailed link): the login already linked to the profile;
    else a customer login with that address that was never linked (made in the admin, or
    before logins were linked), linked now; else a new one.
    Side effects: maybe a linked or a new user, and a `login_linked` customer event."""
    while customer.merged_into_id is not None:
        merged = customer.merged_into
        assert merged is not None  # the id is set
        customer = merged
    linked = User.objects.filter(role=Role.CUSTOMER, customer=customer, is_active=True)
    user = linked.order_by("id").first()
    if user is not None:
        return user
    unlinked = (
        User.objects.select_for_update()
        .filter(role=Role.CUSTOMER, customer__isnull=True, is_active=True, email__iexact=email)
        .order_by("id")
        .first()
    )
    if unlinked is not None:
        customer_user_link(user=unlinked, email=email, verified_by=VERIFIED_BY_EMAILED_LINK)
        return unlinked
    user = user_create(
        username=f"customer-{customer.pk}-{secrets.token_hex(3)}",
        email=email,
        role=Role.CUSTOMER,
        first_name=(customer.name or "")[:150],
        customer=customer,
    )
    CustomerEvent.objects.create(
        customer=customer,
        kind="login_linked",
        data={"user": user.pk, "email": email, "verified_by": VERIFIED_BY_EMAILED_LINK},
    )
    return user
