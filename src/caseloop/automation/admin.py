from django.contrib import admin

from .models import (
    AcknowledgementTemplate,
    BusinessHours,
    BusinessHoursInterval,
    Holiday,
    ResponseTarget,
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


@admin.register(ResponseTarget)
class ResponseTargetAdmin(admin.ModelAdmin):
    list_display = ("priority", "first_response_minutes", "near_percent", "business_hours")
    list_select_related = ("business_hours",)


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
