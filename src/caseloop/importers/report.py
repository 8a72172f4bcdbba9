"""What an import made, skipped and could not use."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from . import records as rec


@dataclass
class ImportReport:
    source: str
    dry_run: bool = False
    created: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    problems: list[rec.Problem] = field(default_factory=list)
    batches: int = 0
    stopped_early: bool = False

    def problem(self, problem: rec.Problem) -> None:
        self.problems.append(problem)

    @property
    def usable(self) -> bool:
        """Whether the source held anything this desk could use (made now or before)."""
        return bool(+self.created or +self.skipped)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "created": dict(sorted(self.created.items())),
            "already_imported": dict(sorted(self.skipped.items())),
            "problems": len(self.problems),
            "problems_by_kind": dict(Counter(p.kind for p in self.problems)),
            "batches": self.batches,
            "stopped_early": self.stopped_early,
        }
