from django.contrib import admin

from .models import (
    CaseTriage,
    KeywordRule,
    MessageMood,
    ModelVersion,
    RoutingRule,
    TeamRouting,
    TriageLabel,
    TriagePolicy,
)


@admin.register(TriagePolicy)
class TriagePolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "review_threshold", "min_training_samples", "accuracy_window"]

    def has_add_permission(self, request) -> bool:
        return not TriagePolicy.objects.exists()


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "weight", "is_active", "keywords"]
    list_filter = ["is_active", "category"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "team", "order", "is_active"]
    list_editable = ["order", "is_active"]


@admin.register(TeamRouting)
class TeamRoutingAdmin(admin.ModelAdmin):
    list_display = ["team", "strategy", "require_skill", "auto_assign", "overflow_team"]
    raw_id_fields = ["last_assigned"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["kind", "version", "trained_at", "n_samples", "metrics"]
    readonly_fields = [f.name for f in ModelVersion._meta.fields]


@admin.register(CaseTriage)
class CaseTriageAdmin(admin.ModelAdmin):
    list_display = ["case", "category", "confidence", "needs_review", "priority", "updated_at"]
    list_filter = ["needs_review", "priority", "category_source"]
    raw_id_fields = ["case"]
    list_select_related = ["case", "category"]


@admin.register(MessageMood)
class MessageMoodAdmin(admin.ModelAdmin):
    list_display = ["message", "label", "score", "frustrated", "complaint_probability"]
    raw_id_fields = ["message", "case"]


@admin.register(TriageLabel)
class TriageLabelAdmin(admin.ModelAdmin):
    list_display = ["case", "field", "value", "predicted", "source", "actor", "created_at"]
    list_filter = ["field", "source"]
    raw_id_fields = ["case", "actor"]
