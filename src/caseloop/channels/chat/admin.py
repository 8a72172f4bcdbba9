from django.conf import settings
from django.contrib import admin

from .models import ChatConversation, ChatEmailClaim, ChatWidget


@admin.register(ChatWidget)
class ChatWidgetAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "is_active", "created_at")
    readonly_fields = ("embed_snippet",)

    @admin.display(description="Embed on a site")
    def embed_snippet(self, obj: ChatWidget) -> str:
        if not obj.pk:
            return "Save the widget first."
        return (
            f'<script src="{settings.SITE_URL}/static/chat/widget.js" '
            f'data-widget="{obj.key}" async></script>'
        )


@admin.register(ChatConversation)
class ChatConversationAdmin(admin.ModelAdmin):
    list_display = ("pk", "widget", "case", "email", "state", "created_at", "closed_at")
    list_select_related = ("widget", "case")
    readonly_fields = ("widget", "visitor_id", "case", "created_at", "closed_at")


@admin.register(ChatEmailClaim)
class ChatEmailClaimAdmin(admin.ModelAdmin):
    """Read-only: claims are made and proven by visitors, never edited."""

    list_display = ("email", "widget", "created_at", "expires_at", "attempts", "verified_at")
    list_select_related = ("widget",)
    search_fields = ("email",)
    exclude = ("code_hash",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
