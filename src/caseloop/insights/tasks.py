"""Periodic jobs of the insights app."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from .problem_detection import problems_detect
from .rollups import rollups_catch_up
from .trends import trends_detect
from .worktime import work_intervals_close_idle


@db_periodic_task(crontab(minute="*"))
@lock_task("insights-rollups")
def rollups_refresh() -> None:
    """Every minute: read the new case events into the facts and daily rollups, in batches
    until the log is read (a desk that was down catches up here)."""
    while rollups_catch_up(limit=5000).more:
        pass


@db_periodic_task(crontab(minute="*"))
@lock_task("insights-work-intervals")
def work_intervals_close() -> None:
    """Every minute: close the tracked intervals of agents who left without a last beat
    (a closed laptop), so their time stops at their last beat and is reported."""
    work_intervals_close_idle()


@db_periodic_task(crontab(minute="7"))
@lock_task("insights-problem-detection")
def problems_detect_hourly() -> int:
    """Every hour: group the recent cases no problem holds and suggest a problem for each
    group growing faster than its baseline (managers confirm, merge or reject it)."""
    return len(problems_detect())


@db_periodic_task(crontab(minute="17"))
@lock_task("insights-trend-detection")
def trends_detect_hourly() -> int:
    """Every hour: compare the last day's new cases, by category, product, keyword and
    mood, with the same hours of the weeks before, and alert the managers to each spike."""
    return len(trends_detect())
