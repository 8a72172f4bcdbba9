from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, DeskIdentity, SsoIdentity, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role", "tier", "is_available", "is_active")
    list_filter = ("role", "tier", "is_available", "is_active")
    fieldsets = tuple(BaseUserAdmin.fieldsets or ()) + (
        ("Desk", {"fields": ("role", "tier", "skills", "is_available", "customer")}),
    )
    filter_horizontal = ("skills", "groups", "user_permissions")
    raw_id_fields = ("customer",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")


@admin.register(DeskIdentity)
class DeskIdentityAdmin(admin.ModelAdmin):
    list_display = ("name",)

    def has_add_permission(self, request) -> bool:
        return not DeskIdentity.objects.exists()


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Links made by single sign-on; deleting one lets the subject be matched again by its
    verified address at the next sign-in."""

    list_display = ("user", "issuer", "subject", "created_at", "last_signed_in_at")
    search_fields = ("user__username", "user__email", "subject")
    readonly_fields = ("user", "issuer", "subject", "created_at", "last_signed_in_at")

    def has_add_permission(self, request) -> bool:
        return False
