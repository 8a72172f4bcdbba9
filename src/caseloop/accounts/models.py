from __future__ import annotations

import copy

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from caseloop.lib.settings_cache import cached_setting


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


STAFF_ROLES = frozenset({Role.AGENT, Role.MANAGER, Role.ADMIN})


class Team(models.Model):
    """A department that cases are routed to, e.g. Billing or Technical support."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField("accounts.User", related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """Everyone who signs in: customers, agents (tier 1..n, with skills), managers, admins."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    tier = models.PositiveSmallIntegerField(default=1, help_text="Agent tier, 1 = front line.")
    signature = models.TextField(
        blank=True, max_length=1000, help_text="Added under each of the agent's replies."
    )
    language = models.CharField(
        max_length=16,
        blank=True,
        help_text="The language of the workspace for this person; blank follows the browser.",
    )
    skills = models.ManyToManyField("cases.Category", related_name="skilled_agents", blank=True)
    is_available = models.BooleanField(
        default=True, help_text="Available agents receive routed cases."
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
        help_text="For customer accounts: the customer profile this login belongs to.",
    )

    @property
    def is_agent_like(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A per-user API token. Only its SHA-256 digest is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class SsoIdentity(models.Model):
    """Who a user is at the identity provider they sign in through (`accounts.sso`): the
    provider's issuer and its subject, which never change, where an email address may."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_signed_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class RateCounter(models.Model):
    """Attempts counted against one rate-limit key in its current window, for setups
    without Redis (`caseloop.lib.ratelimit`). Changed only by single atomic statements
    (`accounts.ratecounters`), never through the ORM's read-modify-write."""

    key = models.CharField(
        max_length=64, primary_key=True, help_text="SHA-256 of the scope and client."
    )
    hits = models.PositiveIntegerField(default=0)
    window_ends_ms = models.BigIntegerField(
        db_index=True, help_text="When the window ends, in milliseconds since the epoch."
    )

    def __str__(self) -> str:
        return f"{self.key[:12]}… {self.hits}"


def desk_name_default() -> str:
    return settings.DESK_NAME


class DeskIdentity(models.Model):
    """How the desk presents itself to customers: the name on the portal, the help centre,
    the contact form and every email they get, its colour and its logo. Edited in the desk's
    settings (one row; without it, the CASELOOP_DESK_NAME setting)."""

    name = models.CharField(
        max_length=100,
        default=desk_name_default,
        help_text="The name customers know you by, e.g. your company or shop.",
    )
    colour = models.CharField(
        max_length=7,
        default="#0a58ca",
        help_text="Links and buttons, e.g. #0a58ca: dark enough to read on white.",
    )
    logo = models.FileField(
        upload_to="desk/",
        blank=True,
        help_text="PNG, JPEG, GIF or WebP, at most 256 KB; shown on the customer's pages.",
    )

    class Meta:
        verbose_name = "desk identity"
        verbose_name_plural = "desk identity"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> DeskIdentity:
        """The desk's name and colours (read once per process until they change; a copy,
        so a caller's edits stay its own)."""
        kept = cached_setting(
            "accounts.desk_identity",
            lambda: cls.objects.order_by("pk").first() or cls(),
            models=(cls,),
        )
        return copy.copy(kept)
