from django.contrib import admin

from .models import (
    ContactPoint,
    Customer,
    CustomerEvent,
    Organization,
    PurchaseRecord,
    contact_points_for_display,
)


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0


class PurchaseInline(admin.TabularInline):
    model = PurchaseRecord
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "display_name", "organization", "is_vip", "language", "merged_into")
    list_filter = ("is_vip", "language")
    search_fields = ("name", "contact_points__value")
    inlines = [ContactPointInline, PurchaseInline]
    raw_id_fields = ("merged_into",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("organization", "merged_into")
            .prefetch_related(
                contact_points_for_display(),
                contact_points_for_display("merged_into__contact_points"),
            )
        )


admin.site.register(Organization)


@admin.register(CustomerEvent)
class CustomerEventAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "actor", "created_at")
    readonly_fields = ("customer", "kind", "actor", "data", "created_at")
    list_select_related = ("customer", "actor")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(contact_points_for_display("customer__contact_points"))
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
