from __future__ import annotations

from django.db import models
from django.db.models import Prefetch
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from caseloop.lib.money import desk_currency


class Organization(models.Model):
    name = models.CharField(max_length=200, unique=True)
    service_level = models.CharField(
        max_length=32, blank=True, help_text="Contracted service level, e.g. standard, premium."
    )

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """One person, whatever channels they use; contact points resolve to them."""

    name = models.CharField(max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="customers"
    )
    language = models.CharField(max_length=16, default="en")
    is_vip = models.BooleanField(default=False)
    notes = models.TextField(blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name, else the primary email address (then phone number) of someone known
        only by it. Reads the contact points prefetched by `contact_points_for_display()`
        (lists must), else queries them once per instance, and only for a nameless one."""
        return self.name or self._display_contact or f"Customer #{self.pk}"

    @cached_property
    def _display_contact(self) -> str:
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("contact_points")
        if prefetched is not None:
            points = [(p.kind, p.is_primary, p.pk or 0, p.value) for p in prefetched]
        elif self.pk is None:
            return ""
        else:
            points = list(
                self.contact_points.filter(kind__in=DISPLAY_KINDS).values_list(
                    "kind", "is_primary", "id", "value"
                )
            )
        shown = [p for p in points if p[0] in DISPLAY_KINDS]
        if not shown:
            return ""
        shown.sort(key=lambda p: (DISPLAY_KINDS.index(p[0]), not p[1], p[2]))
        return shown[0][3]


class ContactPoint(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", _("Email")
        PHONE = "phone", _("Phone")
        CHAT = "chat", _("Chat id")
        SOCIAL = "social", _("Social handle")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contact_points")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.CharField(
        max_length=320, help_text="Normalized: lower-cased email, E.164 phone."
    )
    is_primary = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"], name="contact_point_unique_kind_value"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class PurchaseRecord(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="purchases")
    order_id = models.CharField(max_length=100)
    product = models.CharField(max_length=200)
    purchased_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # The desk's currency (CASELOOP_CURRENCY) unless the purchase names its own.
    currency = models.CharField(max_length=3, default=desk_currency)

    class Meta:
        ordering = ["-purchased_at"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "product"], name="purchase_unique_line")
        ]
        indexes = [models.Index(fields=["order_id"])]

    def __str__(self) -> str:
        return f"{self.order_id} {self.product}"


class CustomerEvent(models.Model):
    """Append-only history of a customer profile (creation, merges, contact changes)."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} on customer {self.customer_id}"


# Contact points a nameless customer is shown by, in order of preference: a chat id is an
# opaque number, a social handle belongs to another site.
DISPLAY_KINDS = [ContactPoint.Kind.EMAIL, ContactPoint.Kind.PHONE]


def contact_points_for_display(lookup: str = "contact_points") -> Prefetch:
    """What a list prefetches so `Customer.display_name` runs no query per row: e.g.
    `cases.prefetch_related(contact_points_for_display("customer__contact_points"))`."""
    return Prefetch(lookup, queryset=ContactPoint.objects.filter(kind__in=DISPLAY_KINDS))
