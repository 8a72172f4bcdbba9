"""Insights' records: what customers said of the service (ratings, NPS answers), the time
agents worked on cases, and the per-case facts and daily rollups the reports read."""

from .metrics import CaseFact, DailyRollup, MetricsCursor
from .ratings import NpsResponse, SatisfactionRating
from .reviews import Criterion, QaReview, QaScore, Scorecard
from .surveys import CommentTheme, Recovery, SurveyInvitation, SurveySettings
from .worktime import WorkInterval

__all__ = [
    "CaseFact",
    "CommentTheme",
    "Criterion",
    "DailyRollup",
    "MetricsCursor",
    "NpsResponse",
    "QaReview",
    "QaScore",
    "Recovery",
    "SatisfactionRating",
    "Scorecard",
    "SurveyInvitation",
    "SurveySettings",
    "WorkInterval",
]
