"""The knowledge base: articles with their versions, prepared responses (macros), what
agents and customers did with suggestions, and what people searched for."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    FAQ = "faq", _("FAQ")
    TROUBLESHOOTING = "troubleshooting", _("Troubleshooting guide")
    PROCEDURE = "procedure", _("Standard procedure")
    ESCALATION_PATH = "escalation_path", _("Escalation path")
    POLICY = "policy", _("Policy")


class Audience(models.TextChoices):
    INTERNAL = "internal", _("Internal (agents only)")
    PUBLIC = "public", _("Public (help centre)")


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    REVIEW = "review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class Article(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, allow_unicode=False)
    body = models.TextField(help_text="Markdown.")
    body_html = models.TextField(blank=True, editable=False, help_text="Rendered, sanitized.")
    body_text = models.TextField(blank=True, editable=False, help_text="Plain text for search.")
    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.FAQ)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.INTERNAL)
    tags = models.ManyToManyField("cases.Tag", blank=True, related_name="articles")
    language = models.CharField(max_length=10, default="en")
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Filled on PostgreSQL only (weighted title > tags > body); SQLite searches its FTS5 table.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title", "id"]
        indexes = [
            models.Index(fields=["state", "audience"], name="kb_article_state_audience"),
            models.Index(fields=["category", "state"], name="kb_article_category_state"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.state == State.PUBLISHED and self.audience == Audience.PUBLIC


class ArticleVersion(models.Model):
    """A snapshot of an article after each change: who changed what, and when."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField()
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    language = models.CharField(max_length=10)
    tags = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=10, choices=State.choices)
    changed_fields = models.JSONField(default=list, blank=True)
    note = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["article", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.article_id} v{self.number}"


class ArticleSource(models.Model):
    """The case (and lesson learned) an article was drafted from."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="sources")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="kb_sources")
    lesson_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"article {self.article_id} from case {self.case_id}"


class Term(models.Model):
    """Vocabulary of the knowledge base, for correcting typos in queries."""

    word = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return self.word


class MessageDocument(models.Model):
    """The stored tsvector of a case message (PostgreSQL); SQLite keeps an FTS5 table."""

    message = models.OneToOneField(
        "cases.Message", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    document = SearchVectorField(null=True)

    def __str__(self) -> str:
        return f"message {self.message_id}"


class Macro(models.Model):
    """A prepared response: a reply template with placeholders and optional actions."""

    name = models.CharField(max_length=120)
    body = models.TextField()
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="macros",
        help_text="Empty: available to everyone.",
    )
    set_status = models.CharField(max_length=20, blank=True)
    add_tags = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    times_used = models.PositiveIntegerField(default=0)
    # What the macro fits: empty means any category, any stage of the loop.
    categories = models.ManyToManyField(
        "cases.Category",
        blank=True,
        related_name="macros",
        help_text="Empty: fits every category.",
    )
    stages = models.JSONField(
        default=list, blank=True, help_text="Loop stage keys; empty: fits every stage."
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class MacroUse(models.Model):
    """A prepared response sent on a case, with the case's category and loop stage at the
    time: what the ranking learns which macros fit which cases from, and what it remembers
    a customer has already been sent."""

    macro = models.ForeignKey(Macro, on_delete=models.CASCADE, related_name="uses")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    stage = models.CharField(max_length=20, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["macro", "category"], name="kb_macrouse_macro_category"),
            models.Index(fields=["macro", "stage"], name="kb_macrouse_macro_stage"),
            models.Index(fields=["customer", "created_at"], name="kb_macrouse_customer_at"),
        ]

    def __str__(self) -> str:
        return f"macro {self.macro_id} on case {self.case_id}"


class SuggestionFeedback(models.Model):
    class Verdict(models.TextChoices):
        USED = "used", _("Used")
        NOT_HELPFUL = "not_helpful", _("Not helpful")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        "cases.Category", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.CASCADE, related_name="feedback"
    )
    similar_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["article", "category"], name="kb_feedback_article_cat")]

    def __str__(self) -> str:
        return f"{self.verdict} on case {self.case_id}"


class Deflection(models.Model):
    """A customer said a suggested article solved their problem: no case was opened."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    query = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"deflected by {self.article_id}"


class SearchLog(models.Model):
    class Source(models.TextChoices):
        HELP_CENTRE = "help", _("Help centre")
        FORM = "form", _("Web form suggestions")
        AGENT = "agent", _("Agent")
        API = "api", _("API")

    query = models.CharField(max_length=300)
    source = models.CharField(max_length=10, choices=Source.choices)
    results = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["results", "query"], name="kb_searchlog_results_query")]

    def __str__(self) -> str:
        return self.query


class RetrievalModel(models.Model):
    """A built meaning and history index for knowledge search (the file under the data
    directory), with what it was built from: a new one is built when that changes."""

    version = models.PositiveIntegerField(unique=True)
    built_at = models.DateTimeField(auto_now_add=True)
    encoder = models.CharField(max_length=20)
    n_articles = models.PositiveIntegerField(default=0)
    n_examples = models.PositiveIntegerField(default=0)
    signature = models.JSONField(default=dict, blank=True)
    path = models.CharField(max_length=500, help_text="Relative to the data directory.")

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"knowledge retrieval v{self.version}"
