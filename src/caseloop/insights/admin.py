from django.contrib import admin

from .models import (
    CommentTheme,
    NpsResponse,
    Recovery,
    SatisfactionRating,
    SurveyInvitation,
    SurveySettings,
)
from .models.reviews import Criterion, QaReview, QaScore, Scorecard


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "customer", "score", "channel")
    list_filter = ("score", "channel")
    readonly_fields = ("created_at",)


@admin.register(NpsResponse)
class NpsResponseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "customer", "score", "channel")
    list_filter = ("score", "channel")
    list_select_related = ("case", "customer")
    raw_id_fields = ("case", "customer")
    readonly_fields = ("created_at",)


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "nps_enabled", "nps_period_days", "nps_delay_hours", "nps_link_days")

    def has_add_permission(self, request) -> bool:
        # One row holds the desk's rules.
        return not SurveySettings.objects.exists()


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    list_display = ("send_at", "customer", "case", "state", "channel", "sent_at", "answered_at")
    list_filter = ("state", "channel")
    search_fields = ("case__subject", "customer__name")
    list_select_related = ("customer", "case")
    raw_id_fields = ("customer", "case", "message", "response")
    readonly_fields = ("created_at", "sent_at", "answered_at", "nonce")


@admin.register(Recovery)
class RecoveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "owner", "source", "score", "state", "done_at")
    list_filter = ("state", "source")
    list_select_related = ("case", "owner")
    raw_id_fields = ("case", "owner", "rating", "nps_response", "done_by")
    readonly_fields = ("created_at", "done_at")


@admin.register(CommentTheme)
class CommentThemeAdmin(admin.ModelAdmin):
    list_display = ("answered_at", "category", "confidence", "source", "rating", "nps_response")
    list_filter = ("category", "source")
    list_select_related = ("category", "rating", "nps_response")
    raw_id_fields = ("rating", "nps_response")
    readonly_fields = ("themed_at",)


class CriterionInline(admin.TabularInline):
    model = Criterion
    fields = ("order", "label", "guidance", "weight", "scale", "allows_na", "is_active")
    extra = 1
    ordering = ("order", "id")


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = ("name", "is_default", "is_active", "created_at")
    list_editable = ("is_active",)
    inlines = [CriterionInline]


class QaScoreInline(admin.TabularInline):
    model = QaScore
    fields = ("criterion", "value", "percent", "weight")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(QaReview)
class QaReviewAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "agent", "reviewer", "score")
    list_filter = ("scorecard",)
    list_select_related = ("case", "agent", "reviewer")
    search_fields = ("case__reference", "agent__username", "reviewer__username")
    # A review's score is fixed when recorded (through the review form): read-only here.
    readonly_fields = ("case", "agent", "reviewer", "scorecard", "score", "created_at")
    inlines = [QaScoreInline]

    def has_add_permission(self, request) -> bool:
        return False
