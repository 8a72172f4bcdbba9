from django.contrib import admin

from .models import (
    AcknowledgementTemplate,
    BusinessHours,
    BusinessHoursInterval,
    CaseSla,
    Holiday,
    SlaPolicy,
)


class IntervalInline(admin.TabularInline):
    model = BusinessHoursInterval
    extra = 1


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 1


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ("name", "timezone", "is_default")
    inlines = [IntervalInline, HolidayInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "service_level",
        "priority",
        "first_response_minutes",
        "next_reply_minutes",
        "resolution_minutes",
        "warn_percent",
        "business_hours",
        "position",
        "is_active",
    )
    list_filter = ("is_active", "priority")
    list_select_related = ("organization", "business_hours")
    search_fields = ("name", "service_level", "organization__name")
    fieldsets = (
        (None, {"fields": ("name", "is_active", "position")}),
        (
            "Applies to",
            {
                "fields": ("organization", "service_level", "priority"),
                "description": "Empty conditions match every case. The most specific "
                "matching policy applies: organization, then service level, then priority.",
            },
        ),
        (
            "Targets (business minutes)",
            {
                "fields": (
                    "first_response_minutes",
                    "next_reply_minutes",
                    "resolution_minutes",
                    "warn_percent",
                    "business_hours",
                )
            },
        ),
    )


@admin.register(CaseSla)
class CaseSlaAdmin(admin.ModelAdmin):
    """Derived state, kept by the SLA clocks: shown, never edited."""

    list_display = (
        "case",
        "policy",
        "first_response_due_at",
        "next_reply_due_at",
        "resolution_due_at",
        "next_check_at",
    )
    list_select_related = ("case", "policy")
    raw_id_fields = ("case",)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AcknowledgementTemplate)
class AcknowledgementTemplateAdmin(admin.ModelAdmin):
    list_display = ("__str__", "channel", "is_active")
    fields = ("channel", "is_active", "subject", "text")

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.base_fields[
            "text"
        ].help_text = "Placeholders: {reference}, {expected_response}, {customer_name}, {subject}."
        return form
