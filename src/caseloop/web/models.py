from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """An agent's named inbox view: the queue, filters and sort as a query string."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="savedview_unique_user_name")
        ]

    def __str__(self) -> str:
        return self.name


class MagicLink(models.Model):
    """A single-use, expiring sign-in link for the customer portal. Only a digest is kept."""

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="magic_links"
    )
    email = models.EmailField(max_length=320)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"link for {self.email}"
