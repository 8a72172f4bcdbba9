from django.conf import settings
from django.contrib import admin

from .models import WebForm


@admin.register(WebForm)
class WebFormAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "rate_limit", "rate_window_seconds", "is_active")
    readonly_fields = ("embed_snippet",)

    @admin.display(description="Embed on a site")
    def embed_snippet(self, obj: WebForm) -> str:

        if not obj.pk:
            return "Save the form first."
        return (
            f'<script src="{settings.SITE_URL}/static/webform/embed.js" '
            f'data-form="{obj.key}" async></script>'
        )
