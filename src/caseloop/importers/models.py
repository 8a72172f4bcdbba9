from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportedRecord(models.Model):
    """What an import made of one record of another desk: (source, kind, external id) →
    the local row. An import skips every record already here, so running it again, or
    again after it was stopped half-way, creates nothing twice."""

    class Kind(models.TextChoices):
        ORGANIZATION = "organization", _("Organization")
        TEAM = "team", _("Team")
        AGENT = "agent", _("Agent")
        CUSTOMER = "customer", _("Customer")
        CASE = "case", _("Case")

    source = models.CharField(
        max_length=100,
        help_text="The desk's kind (zendesk, freshdesk, zammad, csv) or the name given to it.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    external_id = models.CharField(max_length=200)
    local_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "external_id"], name="imported_record_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.external_id} → {self.local_id}"
