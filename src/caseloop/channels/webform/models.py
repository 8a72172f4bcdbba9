"""Contact forms: the public form and its embeddable copies, each with its own settings."""

from __future__ import annotations

from django.db import models

DEFAULT_FORM_KEY = "default"


class WebForm(models.Model):
    """A contact form. `default` serves /channels/form/; others are embedded on sites listed
    in `allowed_origins` (iframe or one <script> tag)."""

    key = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100, default="Contact us")
    allowed_origins = models.TextField(
        blank=True,
        help_text="Sites that may embed this form, one origin per line, e.g. https://shop.example",
    )
    rate_limit = models.PositiveIntegerField(
        default=5, help_text="Submissions allowed per address in the window."
    )
    rate_window_seconds = models.PositiveIntegerField(default=600)
    is_active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def origins(self) -> list[str]:
        return [
            line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()
        ]
