"""`caseloop import csv`: the one-row-per-message spreadsheet any desk can export."""

from __future__ import annotations

import csv
import io
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from caseloop.cases.models import Case
from caseloop.importers.sources.csvfile import COLUMNS
from caseloop.insights.rollups import rollups_catch_up
from caseloop.triage.models import ModelVersion

from ..builders import make_agent
from .samples import INVOICE, at, check_problems, check_sample, counts, filler

pytestmark = pytest.mark.django_db

CARLA = {
    "customer_email": "carla@acme.test",
    "customer_name": "Carla Diaz",
    "organization": "Acme Ltd",
}
DAN = {"customer_email": "dan@example.test", "customer_name": "Dan Brown"}
ANA = {"agent_email": "ana@desk.test", "agent_name": "Ana Lopez"}


def rows(extra: int = 0) -> list[dict[str, str]]:
    charged = {
        "ticket_id": "1001",
        "subject": "Charged twice for my order",
        **CARLA,
        **ANA,
        "team": "Billing team",
        "tags": "billing; refund",
        "category": "Billing",
        "status": "solved",
        "priority": "high",
    }
    parcel = {"ticket_id": "1002", "subject": "Parcel is late", **DAN, "team": "Delivery team"}
    where = {
        "ticket_id": "1006",
        "subject": "Where is my parcel",
        **DAN,
        **ANA,
        "category": "Delivery",
        "status": "closed",
    }
    out = [
        {
            **charged,
            "direction": "inbound",
            "sent_at": at(1, 9),
            "body": "I was charged twice for order 4411.",
            "attachments": "files/invoice.pdf",
        },
        {
            **charged,
            "direction": "outbound",
            "sent_at": at(1, 10),
            "body": "Sorry! I have refunded the second charge.",
        },
        {
            **charged,
            "direction": "note",
            "sent_at": at(1, 10, 5),
            "body": "Refund id R-99 issued in Stripe.",
        },
        {
            **charged,
            "direction": "inbound",
            "sent_at": at(1, 11),
            "body": "Thanks, that's sorted.",
            "rating": "4",
        },
        {
            **parcel,
            "category": "Delivery",
            "status": "open",
            "direction": "inbound",
            "sent_at": "2024-03-02 08:00:00",
            "body": "My parcel has not arrived.",
            "attachments": "files/photo.jpg",
        },
        {**where, "direction": "inbound", "sent_at": at(3, 12), "body": "Where is my parcel?"},
        {**where, "direction": "outbound", "sent_at": at(3, 13), "body": "It arrives tomorrow."},
        {
            "ticket_id": "1003",
            "subject": "Who?",
            "direction": "inbound",
            "sent_at": at(2, 9),
            "body": "hi",
        },
        {
            "ticket_id": "1004",
            **DAN,
            "direction": "inbound",
            "sent_at": "last Tuesday",
            "body": "x",
        },
        {
            "ticket_id": "1005",
            **DAN,
            "status": "archived",
            "direction": "inbound",
            "sent_at": at(2, 10),
            "body": "x",
        },
    ]
    for row in filler(extra):
        base = {
            "ticket_id": str(row["id"]),
            "subject": row["subject"],
            **(CARLA if row["requester"] == 200 else DAN),
            **ANA,
            "category": row["category"],
            "status": "solved",
        }
        out.append({**base, "direction": "inbound", "sent_at": row["created"], "body": row["text"]})
        out.append({**base, "direction": "outbound", "sent_at": row["reply"], "body": "Sorted."})
    return out


def export(tmp_path: Path, extra: int = 0) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows(extra))
    (tmp_path / "files").mkdir(exist_ok=True)
    (tmp_path / "files" / "invoice.pdf").write_bytes(INVOICE)
    path = tmp_path / "history.csv"
    path.write_text(buffer.getvalue())
    return path


def run(*args: str) -> dict:
    out = StringIO()
    call_command("import", "csv", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_csv_of_messages_becomes_the_desks_history(tmp_path, small_training_policy):
    report = run(str(export(tmp_path)))
    check_sample("csv", rating=4)
    check_problems(report["problem_list"])
    assert Case.objects.get(subject="Parcel is late").category.name == "Delivery"
    assert ModelVersion.objects.filter(kind="category", n_samples=2).exists()
    # The reports read the imported history like any other.
    assert rollups_catch_up().cases == 3


def test_dry_run_twice_and_resume(tmp_path):
    path = str(export(tmp_path, extra=7))
    before = counts()
    assert run(path, "--dry-run")["created"]["cases"] == 10
    assert counts() == before
    run(path, "--no-train", "--batch-size", "3", "--stop-after-batches", "1")
    assert Case.objects.count() == 3
    run(path, "--no-train", "--batch-size", "3")
    done = counts()
    assert done["cases"] == 10
    assert run(path, "--no-train")["created"] == {}
    assert counts() == done
    check_sample("csv", rating=4)


def test_a_csv_without_the_needed_columns_is_refused(tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("id,text\n1,hello\n")
    with pytest.raises(CommandError, match="ticket_id"):
        call_command("import", "csv", str(path))


def test_an_imported_case_reads_on_the_case_page(tmp_path, client):
    run(str(export(tmp_path)), "--no-train")
    client.force_login(make_agent())
    case = Case.objects.get(subject="Charged twice for my order")
    page = client.get(reverse("web:case", args=[case.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Imported from CSV (#1001)" in html
    assert "Refund id R-99 issued in Stripe." in html


def test_an_attachment_path_leading_out_of_the_export_is_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the server's own file")
    export_dir = tmp_path / "export"
    export_dir.mkdir()
    path = export_dir / "h.csv"
    path.write_text(
        "ticket_id,customer_email,direction,sent_at,body,attachments\n"
        f"9,a@x.test,inbound,{at(1, 9)},hello,../secret.txt\n"
    )
    report = run(str(path), "--no-train")
    (message,) = Case.objects.get().messages.all()
    assert message.attachments.count() == 0
    assert "outside the export" in message.metadata["attachments_failed"][0]["error"]
    assert report["problems_by_kind"] == {"attachment": 1}
