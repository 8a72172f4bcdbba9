"""Duration histograms: how rollups keep medians and p90s without keeping every value.

A duration falls in a bucket one minute wide below an hour, five minutes wide below a day,
an hour wide below thirty days and a day wide beyond. Percentiles read from the buckets
are the lower edge of the bucket that holds the nearest-rank value, so they are exact to
the bucket's width: the minute for a first response, the hour for a week-long case.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

HOUR = 3600
DAY = 86_400
_MINUTE_BUCKETS = HOUR // 60  # 60 one-minute buckets
_FIVE_MINUTE_BUCKETS = (DAY - HOUR) // 300  # 276
_HOUR_BUCKETS = (30 * DAY - DAY) // HOUR  # 696
_HOURLY_START = _MINUTE_BUCKETS + _FIVE_MINUTE_BUCKETS
_DAILY_START = _HOURLY_START + _HOUR_BUCKETS

Histogram = dict[str, int]


def bucket_of(seconds: int) -> int:
    seconds = max(0, int(seconds))
    if seconds < HOUR:
        return seconds // 60
    if seconds < DAY:
        return _MINUTE_BUCKETS + (seconds - HOUR) // 300
    if seconds < 30 * DAY:
        return _HOURLY_START + (seconds - DAY) // HOUR
    return _DAILY_START + (seconds - 30 * DAY) // DAY


def bucket_floor(bucket: int) -> int:
    """The smallest duration (seconds) in a bucket."""
    if bucket < _MINUTE_BUCKETS:
        return bucket * 60
    if bucket < _HOURLY_START:
        return HOUR + (bucket - _MINUTE_BUCKETS) * 300
    if bucket < _DAILY_START:
        return DAY + (bucket - _HOURLY_START) * HOUR
    return 30 * DAY + (bucket - _DAILY_START) * DAY


def histogram_of(values: Iterable[int]) -> Histogram:
    histogram: Histogram = {}
    for value in values:
        key = str(bucket_of(value))
        histogram[key] = histogram.get(key, 0) + 1
    return histogram


def histogram_add(into: Histogram, other: Mapping[str, int], sign: int = 1) -> None:
    """Add (sign=1) or take away (sign=-1) `other` in place; empty buckets are dropped."""
    for key, count in other.items():
        total = into.get(key, 0) + sign * count
        if total:
            into[key] = total
        else:
            into.pop(key, None)


def histogram_count(histogram: Mapping[str, int]) -> int:
    return sum(histogram.values())


def histogram_percentile(histogram: Mapping[str, int], share: float) -> int | None:
    """The nearest-rank percentile (share 0.5 = median), as the lower edge of its bucket;
    None for an empty histogram."""
    total = histogram_count(histogram)
    if total <= 0:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for bucket in sorted(int(key) for key in histogram):
        seen += histogram[str(bucket)]
        if seen >= rank:
            return bucket_floor(bucket)
    return None
