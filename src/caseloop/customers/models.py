from __future__ import annotations

from django.db import models


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
        return self.name or f"Customer #{self.pk}"


class ContactPoint(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        CHAT = "chat", "Chat id"
        SOCIAL = "social", "Social handle"

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
    currency = models.CharField(max_length=3, default="USD")

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
