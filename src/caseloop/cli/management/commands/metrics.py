"""`caseloop metrics`: bring the reports' figures up to date now (what the worker does every
minute); `--rebuild` forgets them and rereads the whole event log."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from caseloop.insights.rollups import rollups_catch_up, rollups_rebuild


class Command(BaseCommand):
    help = "Bring the metrics up to date from the event log; --rebuild rereads all of it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="reread the whole log")

    def handle(self, *args: Any, rebuild: bool, **options: Any) -> None:
        if rebuild:
            self.stdout.write(json.dumps({"cases": rollups_rebuild()}))
            return
        cases = 0
        while True:
            batch = rollups_catch_up(limit=5000)
            cases += batch.cases
            if not batch.more:
                break
        self.stdout.write(json.dumps({"cases": cases}))
