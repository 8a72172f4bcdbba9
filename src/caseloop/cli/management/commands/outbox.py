"""`caseloop outbox`: how many side effects are pending, failed or done; `--sweep` runs the
due ones now (what the worker does every minute)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from caseloop.cases.models import OutboxEffect
from caseloop.cases.outbox import effects_sweep


class Command(BaseCommand):
    help = "Show the outbox of side effects (pending, failed, done); --sweep runs the due ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sweep", action="store_true", help="run the due effects now")

    def handle(self, *args: Any, sweep: bool, **options: Any) -> None:
        ran = effects_sweep() if sweep else None
        counts = dict(OutboxEffect.objects.order_by().values_list("state").annotate(n=Count("id")))
        failed = list(
            OutboxEffect.objects.filter(state=OutboxEffect.State.FAILED)
            .order_by("-id")
            .values("id", "kind", "case_id", "last_error")[:20]
        )
        report = {state: counts.get(state, 0) for state in OutboxEffect.State.values}
        if ran is not None:
            report["ran"] = ran
        self.stdout.write(json.dumps({**report, "recent_failures": failed}))
