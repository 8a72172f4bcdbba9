from django.contrib import admin

from .models import Attachment, Case, CaseEvent, Category, Message, Tag


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active")
    prepopulated_fields = {"slug": ("name",)}


admin.site.register(Tag)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the desk so that each one is an event."""

    list_display = ("reference", "subject", "status", "priority", "team", "owner", "created_at")
    list_filter = ("status", "priority", "channel", "team")
    search_fields = ("reference", "subject")
    readonly_fields = [f.name for f in Case._meta.fields]
    list_select_related = ("team", "owner")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("case", "direction", "channel", "delivery_status", "created_at")
    readonly_fields = [f.name for f in Message._meta.fields]
    list_select_related = ("case",)

    def has_add_permission(self, request) -> bool:
        return False


admin.site.register(Attachment)


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ("case", "kind", "actor", "created_at")
    list_filter = ("kind",)
    readonly_fields = ("case", "kind", "actor", "data", "created_at")
    list_select_related = ("case", "actor")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- The problem-solving loop: desk configuration (policies, authority, facts) and
# read-mostly views of what each case recorded.

from .models import (  # noqa: E402
    Alternative,
    AuthorityRule,
    Escalation,
    FactRequirement,
    FollowUp,
    Lesson,
    LoopSettings,
    Plan,
    Policy,
    RemedyType,
)


@admin.register(LoopSettings)
class LoopSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "followup_delay_hours",
        "followup_answer_days",
        "reminder_interval_hours",
        "link_max_age_days",
    )

    def has_add_permission(self, request) -> bool:
        return not LoopSettings.objects.exists()


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Rules in the JSON format of caseloop.cases.loop.policies; validated on save."""

    list_display = ("name", "is_active", "order", "outcome_if_met", "outcome_if_not_met")
    list_filter = ("is_active",)
    filter_horizontal = ("applies_to",)
    search_fields = ("name",)


class AuthorityRuleInline(admin.TabularInline):
    model = AuthorityRule
    extra = 1


@admin.register(RemedyType)
class RemedyTypeAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_monetary", "is_active")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [AuthorityRuleInline]


@admin.register(AuthorityRule)
class AuthorityRuleAdmin(admin.ModelAdmin):
    list_display = (
        "remedy",
        "role",
        "min_tier",
        "limit_amount",
        "currency",
        "requires_category_skill",
    )
    list_filter = ("remedy", "role")
    list_select_related = ("remedy",)


@admin.register(FactRequirement)
class FactRequirementAdmin(admin.ModelAdmin):
    list_display = ("label", "key", "category", "required_for_handoff", "order")
    list_filter = ("category", "required_for_handoff")
    list_select_related = ("category",)


class _ReadOnly(admin.ModelAdmin):
    """Recorded through the desk so each change is an event; shown here for reference."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alternative)
class AlternativeAdmin(_ReadOnly):
    list_display = ("title", "case", "source", "state", "customer_preference")
    list_select_related = ("case",)


@admin.register(Plan)
class PlanAdmin(_ReadOnly):
    list_display = ("case", "state", "expected_timeline", "created_at")
    list_select_related = ("case",)


@admin.register(Escalation)
class EscalationAdmin(_ReadOnly):
    list_display = ("case", "state", "to_team", "to_user", "owner", "created_at")
    list_filter = ("state",)
    list_select_related = ("case", "to_team", "to_user", "owner")


@admin.register(FollowUp)
class FollowUpAdmin(_ReadOnly):
    list_display = ("case", "state", "due_at", "answer_by", "reason")
    list_filter = ("state",)
    list_select_related = ("case",)


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("case", "author", "state", "needs_prepared_answer", "needs_article")
    list_filter = ("state", "needs_prepared_answer", "needs_article")
    list_select_related = ("case", "author")
    readonly_fields = ("case", "author", "summary", "created_at")
