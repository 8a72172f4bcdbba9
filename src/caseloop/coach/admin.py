from django.contrib import admin

from .models import CoachOverride, Guideline, GuidelineExample, JargonTerm


class GuidelineExampleInline(admin.TabularInline):
    """Sentences that show what the rule means: the coach learns the rule's meaning from
    them (breaches) and what it does not mean (near misses)."""

    model = GuidelineExample
    extra = 3
    fields = ("text", "breach")


@admin.register(Guideline)
class GuidelineAdmin(admin.ModelAdmin):
    inlines = [GuidelineExampleInline]
    list_display = ("rule_id", "kind", "severity", "is_active", "order")
    list_filter = ("kind", "severity", "is_active")
    list_editable = ("is_active",)
    search_fields = ("rule_id", "message")


@admin.register(JargonTerm)
class JargonTermAdmin(admin.ModelAdmin):
    list_display = ("term", "plain", "is_active")
    list_editable = ("plain", "is_active")
    search_fields = ("term",)


@admin.register(CoachOverride)
class CoachOverrideAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "case", "rule_ids")
    readonly_fields = ("created_at", "user", "case", "message", "rule_ids")
