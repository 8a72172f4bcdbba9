"""Insights' records: what customers said of the service (ratings, NPS answers), the time
agents worked on cases, recurring problems and the cases linked to them, and the per-case
facts and daily rollups the reports read."""

from .metrics import CaseFact, DailyRollup, MetricsCursor
from .problems import (
    CauseType,
    Problem,
    ProblemCase,
    ProblemChange,
    ProblemContributor,
    ProblemFlag,
    ProblemFollower,
    ProblemNotice,
    ProblemStatus,
)
from .ratings import NpsResponse, SatisfactionRating
from .reviews import Criterion, QaReview, QaScore, Scorecard
from .surveys import CommentTheme, Recovery, SurveyInvitation, SurveySettings
from .trends import TrendAlert
from .worktime import WorkInterval

__all__ = [
    "CaseFact",
    "CauseType",
    "CommentTheme",
    "Criterion",
    "DailyRollup",
    "MetricsCursor",
    "NpsResponse",
    "Problem",
    "ProblemCase",
    "ProblemChange",
    "ProblemContributor",
    "ProblemFlag",
    "ProblemFollower",
    "ProblemNotice",
    "ProblemStatus",
    "QaReview",
    "QaScore",
    "Recovery",
    "SatisfactionRating",
    "Scorecard",
    "SurveyInvitation",
    "SurveySettings",
    "TrendAlert",
    "WorkInterval",
]
