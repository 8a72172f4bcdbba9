"""`caseloop worker`: the job consumer alone (for deployments with several processes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from caseloop.cli.jobs import consumer_create


class Command(BaseCommand):
    help = "Run the job consumer (deliveries, acknowledgements, periodic checks)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, workers: int, **options) -> None:
        consumer_create(workers=workers).run()
