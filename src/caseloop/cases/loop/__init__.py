"""The problem-solving loop of a case: problem statement, needs-solving check, authority,
facts, alternatives, plan and consent, escalation, follow-up, repeat complaints, lessons."""
