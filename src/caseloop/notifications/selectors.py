"""Reading notifications and followers."""

from __future__ import annotations

from django.db.models import QuerySet

from caseloop.accounts.models import User
from caseloop.cases.models import Case

from .models import CaseFollower, Notification, NotificationPreference

PAGE = 50


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notifications_page(*, user: User, before: int | None = None) -> list[Notification]:
    """`user`'s notifications, newest first, PAGE at a time from before id `before`."""
    rows: QuerySet[Notification] = Notification.objects.filter(user=user).select_related("case")
    if before is not None:
        rows = rows.filter(pk__lt=before)
    return list(rows.order_by("-id")[:PAGE])


def case_followers(*, case: Case) -> list[User]:
    return [
        follower.user
        for follower in CaseFollower.objects.filter(case=case).select_related("user").order_by("id")
    ]


def digest_wanted(*, user: User) -> bool:
    preference = NotificationPreference.objects.filter(user=user).first()
    return True if preference is None else preference.email_digest
