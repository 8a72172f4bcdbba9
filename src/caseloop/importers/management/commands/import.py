"""`caseloop import zendesk|freshdesk|zammad|csv …`: bring a team's history from another
desk into this one (see `importers.services.history_import`)."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm  # type: ignore[import-untyped]

from caseloop.importers.services import DEFAULT_BATCH, history_import, history_learn
from caseloop.importers.sources.base import Source, SourceError
from caseloop.importers.sources.csvfile import CsvSource
from caseloop.importers.sources.freshdesk import FreshdeskSource
from caseloop.importers.sources.zammad import ZammadSource
from caseloop.importers.sources.zendesk import ZendeskSource

PROBLEMS_SHOWN = 50


def _source(options: dict[str, Any]) -> Source:
    desk, path, key = options["desk"], options.get("path"), options["source_name"] or ""
    if desk != "csv" and not path and not options.get("url"):
        raise CommandError(f"give the {desk} export's directory, or --url for its API")
    if desk == "zendesk":
        return ZendeskSource(
            directory=path,
            url=options["url"] or "",
            email=options["email"] or "",
            token=options["token"] or "",
            category_field=options["category_field"] or "",
            key=key,
        )
    if desk == "freshdesk":
        return FreshdeskSource(
            directory=path, url=options["url"] or "", api_key=options["api_key"] or "", key=key
        )
    if desk == "zammad":
        return ZammadSource(
            directory=path, url=options["url"] or "", token=options["token"] or "", key=key
        )
    return CsvSource(path=path or "", key=key)


class Command(BaseCommand):
    help = "Import a team's history (people, teams, cases, messages, ratings) from another desk."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="desk", required=True)
        for desk, helptext in (
            ("zendesk", "a Zendesk JSON/NDJSON export directory, or its API"),
            ("freshdesk", "a Freshdesk export directory (API v2 JSON), or its API"),
            ("zammad", "a Zammad export directory (API JSON), or its API"),
            ("csv", "a CSV file, one row per message (columns in the README)"),
        ):
            p = sub.add_parser(desk, help=helptext)
            p.add_argument("path", nargs="?" if desk != "csv" else None, help="export to read")
            if desk != "csv":
                p.add_argument("--url", help="the desk's address, to read its REST API")
            if desk == "zendesk":
                p.add_argument("--email", help="the API user's email")
                p.add_argument("--token", help="an API token")
                p.add_argument(
                    "--category-field", help="id of the custom field holding the category"
                )
            elif desk == "freshdesk":
                p.add_argument("--api-key", help="an agent's API key")
            elif desk == "zammad":
                p.add_argument("--token", help="an access token")
            p.add_argument("--dry-run", action="store_true", help="count and check; write nothing")
            p.add_argument(
                "--batch-size", type=int, default=DEFAULT_BATCH, help="tickets per commit"
            )
            p.add_argument(
                "--stop-after-batches",
                type=int,
                help="stop after committing this many batches (a later run goes on from there)",
            )
            p.add_argument("--no-train", action="store_true", help="skip retraining afterwards")
            p.add_argument(
                "--no-attachments", action="store_true", help="note attachments, fetch none"
            )
            p.add_argument(
                "--source-name",
                help="what this source is called in the import records (default: the desk's "
                "kind); give each of two desks of the same kind its own",
            )
            p.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            source = _source(options)
        except SourceError as error:
            raise CommandError(str(error)) from None
        bar = tqdm(
            total=source.ticket_total(),
            unit="ticket",
            disable=None,  # shown on a terminal only
            file=sys.stderr,
        )
        try:
            report = history_import(
                source=source,
                dry_run=options["dry_run"],
                batch_size=options["batch_size"],
                stop_after_batches=options["stop_after_batches"],
                attachments=not options["no_attachments"],
                progress=bar.update,
            )
        except SourceError as error:
            raise CommandError(str(error)) from None
        finally:
            bar.close()
        learned = None
        if report.usable and not report.dry_run and not options["no_train"]:
            learned = history_learn()
        self.say(
            report=report.as_dict(), problems=report.problems, learned=learned, options=options
        )
        if not report.usable:
            raise CommandError("nothing usable found in the source")

    def say(self, *, report: dict, problems: list, learned: dict | None, options: dict) -> None:
        if options["json"]:
            document = {
                **report,
                "problem_list": [p.as_dict() for p in problems],
                "learned": learned,
            }
            self.stdout.write(json.dumps(document, indent=2))
            return
        verb = "would create" if report["dry_run"] else "created"
        self.stdout.write(f"{report['source']}: {verb}")
        for kind, n in report["created"].items():
            if n:
                self.stdout.write(f"  {kind}: {n}")
        if report["already_imported"]:
            self.stdout.write("already imported (skipped):")
            for kind, n in report["already_imported"].items():
                self.stdout.write(f"  {kind}: {n}")
        if problems:
            self.stdout.write(f"problems: {len(problems)}")
            for p in problems[:PROBLEMS_SHOWN]:
                self.stdout.write(f"  {p.kind} {p.external_id or '?'}: {p.reason}")
            if len(problems) > PROBLEMS_SHOWN:
                self.stdout.write(f"  … and {len(problems) - PROBLEMS_SHOWN} more")
        if report["stopped_early"]:
            self.stdout.write(f"stopped after {report['batches']} batches; run it again to go on")
        if learned is not None:
            model = learned["category_model"]
            self.stdout.write(
                f"category model: v{model} on {learned['trained_on']} cases"
                if model
                else "category model: not enough labelled history to train"
            )
            self.stdout.write(f"messages indexed for search: {learned['messages_indexed']}")
            if learned["knowledge_gaps"]:
                self.stdout.write("knowledge gaps: " + ", ".join(learned["knowledge_gaps"]))
