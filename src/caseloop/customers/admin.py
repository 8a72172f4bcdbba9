from django.contrib import admin

from .models import ContactPoint, Customer, CustomerEvent, Organization, PurchaseRecord


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0


class PurchaseInline(admin.TabularInline):
    model = PurchaseRecord
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "organization", "is_vip", "language", "merged_into")
    list_filter = ("is_vip", "language")
    search_fields = ("name", "contact_points__value")
    inlines = [ContactPointInline, PurchaseInline]
    raw_id_fields = ("merged_into",)


admin.site.register(Organization)


@admin.register(CustomerEvent)
class CustomerEventAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "actor", "created_at")
    readonly_fields = ("customer", "kind", "actor", "data", "created_at")

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
