"""Precision and recall of the coach on a labelled set of drafts.

Each draft: {"id", "inbound" (the customer's message, for the complaint context), "text",
"expected": [rule ids]}. A rule is counted once per draft, however many spans it flags.
"""

from __future__ import annotations

from .engine import check_text, is_complaint_text, rules_load


def evaluate(drafts: list[dict], *, only: list[str] | None = None) -> dict:
    """Scores every active rule, or `only` these (drafts labelled for some rules alone)."""
    rules, jargon = rules_load()
    rule_ids = [rule.rule_id for rule in rules if only is None or rule.rule_id in only]
    counts = {rule_id: {"tp": 0, "fp": 0, "fn": 0} for rule_id in rule_ids}
    clean_drafts = 0
    false_alarm_drafts = 0
    mistakes = []
    for draft in drafts:
        complaint = is_complaint_text(draft.get("inbound", ""))
        found = {
            f.rule_id
            for f in check_text(text=draft["text"], complaint=complaint, rules=rules, jargon=jargon)
            if f.rule_id in rule_ids
        }
        expected = set(draft.get("expected", []))
        for rule_id in rule_ids:
            if rule_id in found and rule_id in expected:
                counts[rule_id]["tp"] += 1
            elif rule_id in found:
                counts[rule_id]["fp"] += 1
            elif rule_id in expected:
                counts[rule_id]["fn"] += 1
        if not expected:
            clean_drafts += 1
            false_alarm_drafts += bool(found)
        if found != expected:
            mistakes.append(
                {
                    "id": draft.get("id"),
                    "missed": sorted(expected - found),
                    "false_alarms": sorted(found - expected),
                }
            )
    per_rule = {}
    for rule_id, c in counts.items():
        flagged, relevant = c["tp"] + c["fp"], c["tp"] + c["fn"]
        per_rule[rule_id] = {
            **c,
            "precision": round(c["tp"] / flagged, 3) if flagged else None,
            "recall": round(c["tp"] / relevant, 3) if relevant else None,
        }
    tp = sum(c["tp"] for c in counts.values())
    fp = sum(c["fp"] for c in counts.values())
    fn = sum(c["fn"] for c in counts.values())
    return {
        "drafts": len(drafts),
        "per_rule": per_rule,
        "overall": {
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "recall": round(tp / (tp + fn), 3) if tp + fn else None,
            "false_alarm_rate": round(fp / (tp + fp), 3) if tp + fp else 0.0,
            "clean_drafts": clean_drafts,
            "clean_drafts_flagged": false_alarm_drafts,
            "clean_draft_false_alarm_rate": round(false_alarm_drafts / clean_drafts, 3)
            if clean_drafts
            else 0.0,
        },
        "mistakes": mistakes,
    }
