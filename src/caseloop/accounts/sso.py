"""Single sign-on with OpenID Connect, through Authlib's Django client.

The identity provider vouches for who someone is (its issuer and their subject, an email
address it verified) and for what they may do on the desk (their groups). Signing in is
two steps: `sso_authorize_redirect` sends the browser to the provider with a state bound
to the session, a nonce and a PKCE challenge; `sso_claims_fetch` takes the provider's
answer, checks the state, trades the code for tokens, verifies the ID token (signature
against the provider's published keys, issuer, audience, expiry, nonce) and returns its
claims with the userinfo endpoint's. `sso_user_sign_in` then finds or makes the local user
and gives them, now, the role and the mapped teams of their groups: someone in no mapped
group, or deactivated here, is refused.

The settings (`OIDC_*`, README "Single sign-on") are read at each call; `sso_config`
raises ImproperlyConfigured for a mistake in them, at start-up too (AccountsConfig.ready).
Tokens, codes and the client secret are never logged: only user ids, roles and groups.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.django_client import DjangoIntegration, DjangoOAuth2App
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from joserfc.errors import JoseError

from caseloop.lib.errors import DomainError, ErrorKind

from .models import Role, SsoIdentity, Team, User
from .services import user_create

logger = logging.getLogger(__name__)
# Authlib logs the PKCE verifier at DEBUG; keep that out of the logs whatever LOG_LEVEL says.
logging.getLogger("authlib").setLevel(logging.INFO)

# Of several mapped groups, the highest role wins.
ROLE_RANK = {Role.CUSTOMER: 0, Role.AGENT: 1, Role.MANAGER: 2, Role.ADMIN: 3}
# The provider's discovery document and keys are fetched again after this long (a key
# the ID token names but the cached set lacks is fetched at once).
METADATA_MAX_AGE_SECONDS = 24 * 3600
HTTP_TIMEOUT_SECONDS = 10
CLIENT_NAME = "oidc"


class SsoFailed(DomainError):
    """The provider's answer could not be trusted: a state that no sign-in here started,
    an ID token that does not verify, an error from the provider."""

    code = "sso_failed"
    kind = ErrorKind.UNAUTHENTICATED


class SsoRefused(DomainError):
    """The provider vouched for someone the desk does not let in (no mapped group, a
    deactivated account, an address it cannot match)."""

    code = "sso_refused"
    kind = ErrorKind.FORBIDDEN


class SsoUnavailable(Exception):
    """The provider could not be reached, or answered with something unreadable."""


@dataclass(frozen=True)
class SsoConfig:
    provider_name: str
    issuer: str
    discovery_url: str
    authorization_url: str
    token_url: str
    jwks_url: str
    userinfo_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: str
    groups_claim: str
    # (group, role) and (group, team slug), in the order given.
    roles: tuple[tuple[str, str], ...]
    teams: tuple[tuple[str, str], ...]
    customers: bool
    create_users: bool
    trust_email: bool

    @property
    def endpoints_given(self) -> bool:
        return bool(self.authorization_url or self.token_url or self.jwks_url)


def _mapping_parse(
    text: str, *, setting: str, values: Iterable[str] = ()
) -> tuple[tuple[str, str], ...]:
    """`group=value,group=value` (commas or new lines between pairs) as (group, value)
    pairs; a value outside `values`, when given, is a mistake."""
    allowed = set(values)
    pairs = []
    for item in re.split(r"[,\n]", text):
        item = item.strip()
        if not item:
            continue
        group, sep, value = item.rpartition("=")
        group, value = group.strip(), value.strip()
        if not sep or not group or not value:
            raise ImproperlyConfigured(f"{setting}: {item!r} is not group=value")
        if allowed and value not in allowed:
            raise ImproperlyConfigured(
                f"{setting}: {value!r} is not one of {', '.join(sorted(allowed))}"
            )
        pairs.append((group, value))
    return tuple(pairs)


def sso_config() -> SsoConfig | None:
    """Single sign-on as configured, or None when it is off (no client id, or nowhere to
    find the provider)."""
    issuer = settings.OIDC_ISSUER
    given = (settings.OIDC_AUTHORIZATION_URL, settings.OIDC_TOKEN_URL, settings.OIDC_JWKS_URL)
    if not settings.OIDC_CLIENT_ID or not (issuer or settings.OIDC_DISCOVERY_URL or any(given)):
        return None
    if any(given) and not all(given):
        raise ImproperlyConfigured(
            "CASELOOP_OIDC_AUTHORIZATION_URL, _TOKEN_URL and _JWKS_URL go together"
        )
    if any(given) and not issuer:
        raise ImproperlyConfigured(
            "CASELOOP_OIDC_ISSUER is needed with endpoints given by hand: the ID token's "
            "issuer is checked against it"
        )
    if not settings.OIDC_CLIENT_SECRET:
        raise ImproperlyConfigured("CASELOOP_OIDC_CLIENT_SECRET is not set")
    if "openid" not in settings.OIDC_SCOPES.split():
        raise ImproperlyConfigured("CASELOOP_OIDC_SCOPES must include openid")
    roles = _mapping_parse(settings.OIDC_ROLES, setting="CASELOOP_OIDC_ROLES", values=Role.values)
    if not roles:
        raise ImproperlyConfigured(
            "CASELOOP_OIDC_ROLES must map at least one group to a role, e.g. support=agent"
        )
    return SsoConfig(
        provider_name=settings.OIDC_PROVIDER_NAME,
        issuer=issuer,
        discovery_url=settings.OIDC_DISCOVERY_URL,
        authorization_url=settings.OIDC_AUTHORIZATION_URL,
        token_url=settings.OIDC_TOKEN_URL,
        jwks_url=settings.OIDC_JWKS_URL,
        userinfo_url=settings.OIDC_USERINFO_URL,
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET,
        scopes=settings.OIDC_SCOPES,
        groups_claim=settings.OIDC_GROUPS_CLAIM or "groups",
        roles=roles,
        teams=_mapping_parse(settings.OIDC_TEAMS, setting="CASELOOP_OIDC_TEAMS"),
        customers=settings.OIDC_CUSTOMERS,
        create_users=settings.OIDC_CREATE_USERS,
        trust_email=settings.OIDC_TRUST_EMAIL,
    )


_clients: dict[SsoConfig, tuple[float, DjangoOAuth2App]] = {}
_clients_lock = threading.Lock()


def _client(config: SsoConfig) -> DjangoOAuth2App:
    """Authlib's client for `config`, kept per process with the provider's metadata and
    keys it has fetched."""
    with _clients_lock:
        cached = _clients.get(config)
        if cached is not None and time.monotonic() - cached[0] < METADATA_MAX_AGE_SECONDS:
            return cached[1]
        where: dict[str, str] = {}
        if config.endpoints_given:
            where = {
                "authorize_url": config.authorization_url,
                "access_token_url": config.token_url,
                "jwks_uri": config.jwks_url,
                "issuer": config.issuer,
            }
            if config.userinfo_url:
                where["userinfo_endpoint"] = config.userinfo_url
        else:
            where["server_metadata_url"] = (
                config.discovery_url or f"{config.issuer}/.well-known/openid-configuration"
            )
        client = DjangoOAuth2App(
            DjangoIntegration(CLIENT_NAME),
            name=CLIENT_NAME,
            client_id=config.client_id,
            client_secret=config.client_secret,
            client_kwargs={
                "scope": config.scopes,
                "code_challenge_method": "S256",
                "default_timeout": HTTP_TIMEOUT_SECONDS,
            },
            **where,
        )
        if len(_clients) > 8:
            _clients.clear()
        _clients[config] = (time.monotonic(), client)
        return client


def _metadata(client: DjangoOAuth2App, config: SsoConfig) -> Mapping[str, Any]:
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SsoUnavailable(f"{config.provider_name} cannot be reached") from exc
    if config.issuer and metadata.get("issuer") != config.issuer:
        raise SsoUnavailable(
            f"{config.provider_name}'s discovery document names another issuer than "
            "CASELOOP_OIDC_ISSUER"
        )
    if not metadata.get("authorization_endpoint") and not config.authorization_url:
        raise SsoUnavailable(f"{config.provider_name}'s discovery document names no endpoints")
    return metadata


def sso_authorize_redirect(
    *, request: HttpRequest, config: SsoConfig, redirect_uri: str
) -> HttpResponse:
    """The redirect that sends the browser to the provider to sign in.
    Side effects: the state, nonce and PKCE verifier kept in the session (an hour)."""
    client = _client(config)
    _metadata(client, config)
    response: HttpResponse = client.authorize_redirect(request, redirect_uri)
    return response


def sso_claims_fetch(*, request: HttpRequest, config: SsoConfig) -> dict[str, Any]:
    """The claims about the person the provider has just signed in, from the verified ID
    token and the userinfo endpoint (the ID token wins where both speak).
    Side effects: the sign-in's state is taken from the session, so an answer is used once."""
    client = _client(config)
    metadata = _metadata(client, config)
    name = config.provider_name
    try:
        token = client.authorize_access_token(request)
        id_claims = token.get("userinfo")
        if not id_claims:
            raise SsoFailed(f"{name} sent no identity token.")
        info: Mapping[str, Any] = {}
        if metadata.get("userinfo_endpoint"):
            info = client.userinfo(token=token)
    except MismatchingStateError:
        raise SsoFailed(
            "This sign-in answer does not belong to a sign-in started in this browser "
            "(it is old, used already or forged). Start again from the sign-in page."
        ) from None
    except OAuthError as exc:
        error = str(exc.error or "error")[:80]
        raise SsoFailed(f"{name} did not sign you in ({error}).") from None
    except (JoseError, ValueError) as exc:
        logger.warning("sso: an ID token from %s did not verify: %s", name, type(exc).__name__)
        raise SsoFailed(f"The identity token from {name} could not be verified.") from None
    except requests.RequestException as exc:
        raise SsoUnavailable(f"{name} cannot be reached") from exc
    if info and info.get("sub") != id_claims.get("sub"):
        raise SsoFailed(f"{name}'s user information is about someone else than its token.")
    return {**info, **id_claims}


def sso_groups(*, claims: Mapping[str, Any], claim: str) -> list[str]:
    """The groups in `claims` under `claim`, a dotted path (`realm_access.roles`); a
    single string counts as one group."""
    value: Any = claims
    for part in claim.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str | int)]
    return []


def sso_role_for(*, groups: Iterable[str], config: SsoConfig) -> str | None:
    """The highest role any of `groups` maps to, or None."""
    held = set(groups)
    roles = [role for group, role in config.roles if group in held]
    return max(roles, key=lambda role: ROLE_RANK[Role(role)]) if roles else None


def sso_verified_email(*, claims: Mapping[str, Any], config: SsoConfig) -> str:
    """The address in `claims` if the provider vouches for it, else an empty string."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        return ""
    verified = claims.get("email_verified")
    if verified is True or str(verified).lower() == "true" or config.trust_email:
        return email.strip().lower()[:254]
    return ""


def _username_free(claims: Mapping[str, Any], email: str) -> str:
    """A username for a new user: the provider's preferred one, else the address, made
    unique with a number."""
    wanted = claims.get("preferred_username") or email or f"sso-{claims['sub']}"
    base = re.sub(r"[^\w.@+-]", "", str(wanted))[:140] or "sso-user"
    username, n = base, 1
    while User.objects.filter(username__iexact=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def _names(claims: Mapping[str, Any]) -> dict[str, str]:
    names = {}
    for claim, field_name in (("given_name", "first_name"), ("family_name", "last_name")):
        value = claims.get(claim)
        if isinstance(value, str) and value.strip():
            names[field_name] = value.strip()[:150]
    return names


def _teams_follow(*, user: User, groups: Iterable[str], config: SsoConfig) -> None:
    """Make `user` a member of exactly the mapped teams their groups name; teams no group
    maps to are the desk's own business and stay as they are."""
    if not config.teams:
        return
    held = set(groups)
    wanted = {slug for group, slug in config.teams if group in held}
    if user.role == Role.CUSTOMER:
        wanted = set()
    mapped = {slug for _group, slug in config.teams}
    teams = {team.slug: team for team in Team.objects.filter(slug__in=mapped)}
    for slug in sorted(mapped - teams.keys()):
        logger.warning("sso: CASELOOP_OIDC_TEAMS names the team %r, which does not exist", slug)
    current = set(user.teams.filter(slug__in=mapped).values_list("slug", flat=True))
    to_add = [teams[slug] for slug in sorted(wanted - current) if slug in teams]
    to_remove = [teams[slug] for slug in sorted(current - wanted)]
    if to_add:
        user.teams.add(*to_add)
    if to_remove:
        user.teams.remove(*to_remove)
    if to_add or to_remove:
        logger.info(
            "sso: user %s joined %s and left %s",
            user.pk,
            [team.slug for team in to_add],
            [team.slug for team in to_remove],
        )


def _user_find(*, claims: Mapping[str, Any], issuer: str, email: str, name: str) -> User | None:
    """The user the provider's subject is linked to, else the one user whose address is
    the verified `email`."""
    identity = (
        SsoIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=str(claims["sub"]))
        .first()
    )
    if identity is not None:
        return identity.user
    if not email:
        return None
    matches = list(User.objects.select_for_update().filter(email__iexact=email)[:2])
    if len(matches) > 1:
        raise SsoRefused(
            f"Several accounts on this desk have the address {email}; an administrator "
            "must settle which one is yours."
        )
    if not matches:
        return None
    user = matches[0]
    if SsoIdentity.objects.filter(user=user, issuer=issuer).exists():
        raise SsoRefused(
            f"The account for {email} on this desk is linked to another account at {name}."
        )
    return user


@transaction.atomic
def sso_user_sign_in(*, claims: Mapping[str, Any], config: SsoConfig) -> User:
    """The local user for the person the provider has vouched for in `claims`, with the
    role and mapped teams their groups give them now. Refused (SsoRefused) when no group
    maps to a role, when customers may not sign in this way, when the account is
    deactivated, or when nobody matches and none may be made.
    Side effects: maybe a new user; the user's role, staff flags and names saved; mapped
    team memberships added and removed; the provider identity linked (first sign-in) and
    its last sign-in time."""
    name = config.provider_name
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SsoFailed(f"{name} did not say who you are (no subject).")
    issuer = str(claims.get("iss") or config.issuer)
    groups = sso_groups(claims=claims, claim=config.groups_claim)
    role = sso_role_for(groups=groups, config=config)
    if role is None:
        raise SsoRefused(
            f"Your account at {name} is in no group that may use this desk. Ask your "
            "administrator to add you to one."
        )
    if role == Role.CUSTOMER and not config.customers:
        raise SsoRefused(
            f"Customers cannot sign in with {name} here; use the emailed sign-in link on "
            "the portal."
        )
    email = sso_verified_email(claims=claims, config=config)
    if role == Role.CUSTOMER and not email:
        raise SsoRefused(
            f"{name} did not vouch for your email address, which your cases are filed under."
        )
    user = _user_find(claims=claims, issuer=issuer, email=email, name=name)
    if user is None:
        if not config.create_users:
            raise SsoRefused(
                "There is no account on this desk for you; ask an administrator to make one."
            )
        if not email:
            raise SsoRefused(
                f"{name} did not vouch for your email address, so no account can be made for you."
            )
        names = _names(claims)
        user = user_create(
            username=_username_free(claims, email),
            email=email,
            role=role,
            first_name=names.get("first_name", ""),
            last_name=names.get("last_name", ""),
        )
        logger.info("sso: made user %s as %s from %s", user.pk, role, name)
    if not user.is_active:
        raise SsoRefused("This account is deactivated on this desk.")
    changed = ["role", "is_staff", "is_superuser"]
    if user.role != role:
        logger.info(
            "sso: user %s is now %s (was %s), from groups %s", user.pk, role, user.role, groups
        )
    user.role = role
    user.is_staff = role in (Role.MANAGER, Role.ADMIN)
    user.is_superuser = role == Role.ADMIN
    for field_name, value in _names(claims).items():
        setattr(user, field_name, value)
        changed.append(field_name)
    if email and not user.email:
        user.email = email
        changed.append("email")
    user.save(update_fields=changed)
    _teams_follow(user=user, groups=groups, config=config)
    identity, _ = SsoIdentity.objects.get_or_create(
        issuer=issuer, subject=subject, defaults={"user": user}
    )
    if identity.user_id != user.pk:
        # Another first sign-in of the same person linked first; this one's new user is
        # rolled back with the transaction.
        raise SsoFailed("You are being signed in in another window; try again.")
    identity.last_signed_in_at = timezone.now()
    identity.save(update_fields=["last_signed_in_at"])
    return user
