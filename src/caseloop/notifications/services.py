"""Writing notifications, reading them, following cases, and the email digest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from caseloop.accounts.models import User
from caseloop.cases import outbox
from caseloop.cases.models import Case
from caseloop.lib.language import language_override
from caseloop.lib.realtime import publish, user_group

from .models import CaseFollower, Notification, NotificationPreference

DIGEST_EFFECT = "notifications.digest"
# A notification still unread this long after it came goes into the digest...
DIGEST_AFTER = timedelta(minutes=15)
# ...and a person gets at most one digest in this time.
DIGEST_EVERY = timedelta(hours=1)
DIGEST_MAX_ITEMS = 25


@dataclass(frozen=True)
class Notice:
    kind: str
    case_id: int | None
    actor_id: int | None
    text: str
    source: str


def _unread_count(user_id: int) -> int:
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()


def _push(user_ids: list[int], notice: Notice) -> None:
    for user_id in user_ids:
        publish(
            user_group(user_id),
            {
                "kind": "notification",
                "case_id": notice.case_id,
                "text": notice.text,
                "unread": _unread_count(user_id),
            },
        )


def notifications_create(notice: Notice, *, users: Iterable[int]) -> list[int]:
    """Notify each of `users` once of `notice` (a repeat of the same source is ignored).
    Side effects: after commit, a live push to each person's sockets."""
    recipients = sorted(set(users))
    if not recipients:
        return []
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=user_id,
                kind=notice.kind,
                case_id=notice.case_id,
                actor_id=notice.actor_id,
                text=notice.text[:500],
                source=notice.source,
            )
            for user_id in recipients
        ],
        ignore_conflicts=True,
    )
    transaction.on_commit(lambda: _push(recipients, notice))
    return recipients


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark `user`'s notifications read: those of `ids`, or all of them. Returns how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


def notifications_read_for_case(*, user: User, case_id: int) -> int:
    """Opening a case reads what was waiting about it."""
    return Notification.objects.filter(user=user, case_id=case_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def case_follow(*, case: Case, user: User) -> bool:
    """`user` follows `case` (staff only). Returns whether they did not before."""
    if not user.is_agent_like:
        raise PermissionError("only members of staff follow cases")
    _, created = CaseFollower.objects.get_or_create(case=case, user=user)
    return created


def case_unfollow(*, case: Case, user: User) -> bool:
    deleted, _ = CaseFollower.objects.filter(case=case, user=user).delete()
    return bool(deleted)


def preference_set(*, user: User, email_digest: bool) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.update_or_create(
        user=user, defaults={"email_digest": email_digest}
    )
    return preference


# --- the email digest ---------------------------------------------------------------------


def digests_record(*, now: datetime | None = None) -> int:
    """Record one digest effect for each person with notifications unread for DIGEST_AFTER
    and not yet in a digest, unless they turned the digest off or had one within
    DIGEST_EVERY. Returns how many were recorded."""
    now = now or timezone.now()
    waiting = (
        Notification.objects.filter(
            emailed_at__isnull=True, read_at__isnull=True, created_at__lte=now - DIGEST_AFTER
        )
        .exclude(user__email="")
        .values_list("user_id", flat=True)
        .distinct()
    )
    users = set(waiting)
    if not users:
        return 0
    held = NotificationPreference.objects.filter(user_id__in=users).values_list(
        "user_id", "email_digest", "last_digest_at"
    )
    for user_id, wanted, last in held:
        if not wanted or (last is not None and last > now - DIGEST_EVERY):
            users.discard(user_id)
    with transaction.atomic():
        for user_id in sorted(users):
            outbox.effect_record(
                kind=DIGEST_EFFECT,
                payload={"user": user_id, "until": now.isoformat()},
                key=f"{DIGEST_EFFECT}:{user_id}:{now.isoformat()}",
            )
    return len(users)


def digest_send(payload: dict[str, Any]) -> None:
    """Outbox handler: email one person what still waits unread for them, then mark it sent.
    Runs in the effect's transaction: a crash before the commit sends again, never loses."""
    user = User.objects.filter(pk=payload["user"], is_active=True).exclude(email="").first()
    if user is None:
        return
    until = datetime.fromisoformat(payload["until"])
    items = list(
        Notification.objects.filter(
            user=user, emailed_at__isnull=True, read_at__isnull=True, created_at__lte=until
        )
        .select_related("case")
        .order_by("id")[:DIGEST_MAX_ITEMS]
    )
    if not items:
        return
    site = settings.SITE_URL
    # In the person's own language for the desk (blank: the desk's default).
    with language_override(user.language):
        lines = [
            gettext("Hello %(name)s,") % {"name": user.first_name or user.username},
            "",
            gettext("Waiting for you in the desk:"),
            "",
        ]
        for item in items:
            link = site + reverse("web:case", args=[item.case_id]) if item.case_id else ""
            lines.append(f"- {item.text}" + (f"\n  {link}" if link else ""))
        everything = f"{site}{reverse('web:notifications')}"
        lines += ["", gettext("All your notifications: %(url)s") % {"url": everything}]
        lines.append(gettext("Turn this email off on that page."))
        subject = ngettext(
            "%(count)d update waiting for you", "%(count)d updates waiting for you", len(items)
        ) % {"count": len(items)}
    get_connection(fail_silently=False).send_messages(
        [
            EmailMessage(
                subject=subject,
                body="\n".join(lines) + "\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
            )
        ]
    )
    now = timezone.now()
    Notification.objects.filter(pk__in=[item.pk for item in items]).update(emailed_at=now)
    NotificationPreference.objects.update_or_create(user=user, defaults={"last_digest_at": now})


outbox.effect_type_register(DIGEST_EFFECT, digest_send)
