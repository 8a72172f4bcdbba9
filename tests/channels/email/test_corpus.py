"""Every real-world message of the shared corpus goes through the pipeline: each becomes a
case, joins one, or is quarantined with a reason — and none crashes the intake."""

from collections import Counter
from pathlib import Path

import pytest

from caseloop.channels.email.services import email_ingest

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "emails" / "mikel_mail"
NOT_MAIL = {"LICENSE", "PROVENANCE.md"}


def corpus_files() -> list[Path]:
    return sorted(
        path
        for path in CORPUS.rglob("*")
        if path.is_file() and path.name not in NOT_MAIL and not path.name.startswith(".")
    )


@pytest.mark.django_db
def test_every_corpus_message_becomes_a_case_or_a_reasoned_quarantine(mailbox):
    files = corpus_files()
    assert len(files) >= 100, f"corpus not found under {CORPUS}"
    outcomes: Counter = Counter()
    reasons: Counter = Counter()
    for path in files:
        outcome = email_ingest(raw=path.read_bytes(), source="corpus")
        if outcome.quarantined is not None:
            reason = outcome.quarantined.reason
            assert reason.strip(), path.name
            assert not reason.startswith("intake failed"), f"{path.name}: {reason}"
            reasons[reason.split(":")[0]] += 1
            outcomes["quarantined"] += 1
        elif outcome.result.duplicate:
            outcomes["duplicates"] += 1
        elif outcome.result.created:
            outcomes["cases"] += 1
        else:
            outcomes["joined"] += 1
    assert sum(outcomes.values()) == len(files)
    assert outcomes["cases"] >= len(files) // 2
    assert outcomes["quarantined"] == sum(reasons.values())
