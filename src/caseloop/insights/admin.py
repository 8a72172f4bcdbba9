from django.contrib import admin

from .models import SatisfactionRating


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("created_at", "case", "customer", "score", "channel")
    list_filter = ("score", "channel")
    readonly_fields = ("created_at",)
