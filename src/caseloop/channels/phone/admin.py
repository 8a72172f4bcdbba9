from django.contrib import admin

from .models import CallLog


@admin.register(CallLog)
class CallLogAdmin(admin.ModelAdmin):
    list_display = ("started_at", "direction", "phone", "duration_seconds", "agent", "case")
    list_select_related = ("agent", "case")
    search_fields = ("phone", "notes", "external_id")
    readonly_fields = ("case", "message", "agent", "provider", "external_id")
