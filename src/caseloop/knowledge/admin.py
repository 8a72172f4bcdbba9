from django import forms
from django.contrib import admin

from .errors import MacroInvalid
from .models import Article, ArticleVersion, Deflection, Macro, SearchLog, SuggestionFeedback
from .services import macro_placeholders


class ArticleVersionInline(admin.TabularInline):
    model = ArticleVersion
    extra = 0
    can_delete = False
    fields = ("number", "title", "state", "changed_fields", "note", "author", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "audience", "category", "state", "version", "updated_at")
    list_filter = ("state", "audience", "kind", "category", "language")
    search_fields = ("title",)
    # Edits go through the services (versions, workflow, index): the admin only reads.
    readonly_fields = [f.name for f in Article._meta.concrete_fields if f.name != "id"]
    inlines = [ArticleVersionInline]

    def has_add_permission(self, request):
        return False


class MacroForm(forms.ModelForm):
    class Meta:
        model = Macro
        fields = ("name", "body", "team", "set_status", "add_tags", "is_active")

    def clean_body(self):

        body = self.cleaned_data["body"]
        try:
            macro_placeholders(body)
        except MacroInvalid as exc:
            raise forms.ValidationError(str(exc)) from exc
        return body


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    form = MacroForm
    list_display = ("name", "team", "set_status", "is_active", "times_used")
    list_filter = ("team", "is_active")
    search_fields = ("name", "body")


@admin.register(SuggestionFeedback)
class SuggestionFeedbackAdmin(admin.ModelAdmin):
    list_display = ("case", "article", "similar_case", "verdict", "user", "created_at")
    list_filter = ("verdict",)


@admin.register(Deflection)
class DeflectionAdmin(admin.ModelAdmin):
    list_display = ("article", "query", "created_at")


@admin.register(SearchLog)
class SearchLogAdmin(admin.ModelAdmin):
    list_display = ("query", "source", "results", "created_at")
    list_filter = ("source",)
