"""Caseloop: a customer-service desk built around the whole problem-solving loop."""

__version__ = "0.1.0"
