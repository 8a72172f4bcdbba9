"""`caseloop kb_index [--messages] [--articles] [--rebuild]`: (re)build the search index and,
with the articles, the meaning and history index when it is out of date."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from caseloop.knowledge import search


class Command(BaseCommand):
    help = "Index case messages not indexed yet (backfill) and/or rebuild the article index."

    def add_arguments(self, parser):
        parser.add_argument("--articles", action="store_true", help="Rebuild the article index.")
        parser.add_argument("--messages", action="store_true", help="Index case messages.")
        parser.add_argument(
            "--rebuild", action="store_true", help="Re-index every message, not only new ones."
        )
        parser.add_argument("--batch", type=int, default=20000)

    def handle(self, *args, **options):
        both = not options["articles"] and not options["messages"]
        if options["articles"] or both:
            count = search.articles_reindex()
            self.stdout.write(f"articles indexed: {count}")
            # With --rebuild even an unchanged desk gets a fresh meaning and history index.
            model = search.retrieval_rebuild(force=options["rebuild"])
            if model is not None:
                self.stdout.write(
                    f"meaning and history index v{model.version} ({model.encoder}): "
                    f"{model.n_articles} articles, {model.n_examples} answered questions"
                )
        if options["messages"] or both:
            count = search.messages_backfill(batch=options["batch"], rebuild=options["rebuild"])
            self.stdout.write(f"messages indexed: {count}")
