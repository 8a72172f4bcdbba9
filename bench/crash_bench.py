"""Kill the desk mid-flight at volume and count what survived.

Starts real processes (`caseloop serve`, plus `caseloop worker` when DATABASE_URL and
REDIS_URL are set), drives creates and replies from concurrent clients, SIGKILLs every
process once `--kill-after` creates were acknowledged, restarts, waits for the outbox sweep
and prints JSON: cases and replies acknowledged, side effects left pending by the crash,
and what is missing afterwards (all should be 0).

    .venv/bin/python bench/crash_bench.py --cases 2000 --clients 8 --kill-after 1500
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.crash.harness import Desk, drive, settle  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--kill-after", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=1, help="kill and restart this often")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        desk = Desk(Path(workdir))
        desk.setup()
        left_behind = []
        states = []
        try:
            started = time.monotonic()
            for _ in range(args.rounds):
                desk.start()
                states.append(
                    drive(
                        desk,
                        cases=args.cases,
                        clients=args.clients,
                        kill_after=args.kill_after,
                        on_kill=desk.kill,
                    )
                )
                left_behind.append(desk.outbox()["pending"])
            desk.start()
            merged = states[0]
            for state in states[1:]:
                merged.cases.update(state.cases)
                merged.replies.update(state.replies)
                merged.lost_requests += state.lost_requests
            result = settle(desk, merged, patience=600)
            elapsed = time.monotonic() - started
        finally:
            desk.stop()
    print(
        json.dumps(
            {
                "backend": "postgresql+redis" if desk.at_scale else "sqlite+embedded",
                "rounds": args.rounds,
                "cases_acknowledged": result.cases,
                "replies_acknowledged": result.replies,
                "requests_cut_by_the_kill": merged.lost_requests,
                "effects_left_pending_by_the_kill": left_behind,
                "missing_acknowledgements": result.acknowledgements_missing,
                "duplicate_acknowledgements": result.acknowledgements_duplicated,
                "missing_triage": result.triage_missing,
                "stuck_deliveries": result.replies_stuck,
                "failed_deliveries": len(result.replies_failed),
                "seconds": round(elapsed, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
