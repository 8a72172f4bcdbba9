"""Writes for customers: identity resolution, merging, purchase imports.

`customer_find_or_create` is the one identity-resolution service every intake path uses.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import cast

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from caseloop.lib.money import desk_currency
from caseloop.lib.text import bytes_decode, text_clean

from .errors import CustomerMergeError, InvalidContactPoint, PurchaseImportError
from .hooks import customers_merged
from .models import ContactPoint, Customer, CustomerEvent, PurchaseRecord

DEFAULT_PHONE_REGION = "US"


def contact_normalize(*, kind: str, value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The canonical form of a contact point: emails lower-cased, phones in E.164."""
    value = (value or "").strip()
    if not value:
        raise InvalidContactPoint(kind, value, "is empty")
    if kind == ContactPoint.Kind.EMAIL:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError as exc:
            raise InvalidContactPoint(kind, value, "is not a valid email address") from exc
        return value
    if kind == ContactPoint.Kind.PHONE:
        try:
            number = phonenumbers.parse(value, None if value.startswith("+") else region)
        except phonenumbers.NumberParseException as exc:
            raise InvalidContactPoint(kind, value, "is not a phone number") from exc
        if not phonenumbers.is_possible_number(number):
            raise InvalidContactPoint(kind, value, "is not a possible phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if kind == ContactPoint.Kind.SOCIAL:
        return value.lower()
    if kind == ContactPoint.Kind.CHAT:
        return value
    raise InvalidContactPoint(kind, value, "unknown contact kind")


@dataclass(frozen=True)
class Identity:
    """What an intake path knows about who wrote: any subset of these."""

    email: str = ""
    phone: str = ""
    chat: str = ""
    social: str = ""
    name: str = ""

    def contact_points(self) -> list[tuple[str, str]]:
        pairs = [
            (ContactPoint.Kind.EMAIL, self.email),
            (ContactPoint.Kind.PHONE, self.phone),
            (ContactPoint.Kind.CHAT, self.chat),
            (ContactPoint.Kind.SOCIAL, self.social),
        ]
        return [(kind, contact_normalize(kind=kind, value=value)) for kind, value in pairs if value]


def _resolve_merged(customer: Customer) -> Customer:
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = cast(Customer, customer.merged_into)
    return customer


def customer_find_or_create(*, identity: Identity, actor=None) -> Customer:
    """Find the customer owning any of the identity's contact points, else create one.

    Contact points the identity adds are attached to the found customer. Races between two
    intake paths creating the same contact point are settled by the unique constraint.
    Side effects: a `created` or `contact_added` customer event.
    """
    points = identity.contact_points()
    if not points and not identity.name:
        raise InvalidContactPoint("identity", "", "needs an email, phone, chat id, handle or name")
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _find_or_create(points=points, identity=identity, actor=actor)
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _find_or_create(*, points: list[tuple[str, str]], identity: Identity, actor) -> Customer:
    existing = (
        list(ContactPoint.objects.select_related("customer").filter(_contact_filter(points)))
        if points
        else []
    )
    if existing:
        customer = _resolve_merged(existing[0].customer)
    else:
        customer = Customer.objects.create(name=identity.name)
        CustomerEvent.objects.create(
            customer=customer, actor=actor, kind="created", data={"contacts": points}
        )
    known = {(cp.kind, cp.value) for cp in existing}
    # A new customer has no contact points yet: the first of each kind is its primary.
    kinds_held: set[str] = set()
    for kind, value in points:
        if (kind, value) not in known:
            ContactPoint.objects.create(
                customer=customer,
                kind=kind,
                value=value,
                is_primary=kind not in kinds_held
                if not existing
                else not customer.contact_points.filter(kind=kind).exists(),
            )
            kinds_held.add(kind)
            if existing:
                CustomerEvent.objects.create(
                    customer=customer,
                    actor=actor,
                    kind="contact_added",
                    data={"kind": kind, "value": value},
                )
    if identity.name and not customer.name:
        customer.name = identity.name
        customer.save(update_fields=["name"])
    return customer


def _contact_filter(points: list[tuple[str, str]]):

    query = Q()
    for kind, value in points:
        query |= Q(kind=kind, value=value)
    return query


@transaction.atomic
def customer_create(
    *,
    name: str = "",
    identity: Identity | None = None,
    actor=None,
    organization=None,
    language: str = "en",
    is_vip: bool = False,
    notes: str = "",
) -> Customer:
    """Create a customer with contact points; fails if a contact point belongs to someone."""
    points = identity.contact_points() if identity else []
    taken = ContactPoint.objects.filter(_contact_filter(points)).first() if points else None
    if taken:
        raise InvalidContactPoint(taken.kind, taken.value, "already belongs to another customer")
    customer = Customer.objects.create(
        name=name, organization=organization, language=language, is_vip=is_vip, notes=notes
    )
    for kind, value in points:
        ContactPoint.objects.create(customer=customer, kind=kind, value=value, is_primary=True)
    CustomerEvent.objects.create(
        customer=customer, actor=actor, kind="created", data={"contacts": points}
    )
    return customer


@transaction.atomic
def customer_merge(*, source: Customer, target: Customer, actor=None) -> Customer:
    """Fold `source` into `target`: contact points, purchases and cases move; history stays.

    The source profile is kept, marked merged, so its events still tell what happened.
    Side effects: a `merged` event on both customers and a `customer_changed` event on every
    moved case; portal logins of the source now belong to the target.
    """
    if source.pk == target.pk:
        raise CustomerMergeError("cannot merge a customer into itself")
    if source.merged_into_id:
        raise CustomerMergeError(f"customer {source.pk} was already merged")
    target = _resolve_merged(target)
    moved_contacts = list(source.contact_points.values_list("kind", "value"))
    source.contact_points.update(customer=target, is_primary=False)
    source.purchases.update(customer=target)
    # Portal logins follow the profile, or they would lose sight of their own cases.
    moved_users = list(source.users.values_list("pk", flat=True))
    source.users.update(customer=target)
    moved = customers_merged(source=source, target=target, actor=actor)
    if target.is_vip is False and source.is_vip:
        target.is_vip = True
    if not target.name:
        target.name = source.name
    if source.notes:
        target.notes = (target.notes + "\n\n" + source.notes).strip()
    target.save(update_fields=["is_vip", "name", "notes"])
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    data = {
        "source": source.pk,
        "target": target.pk,
        "contacts": moved_contacts,
        "cases": moved.get("cases", []),
        "users": moved_users,
    }
    CustomerEvent.objects.create(customer=target, actor=actor, kind="merged", data=data)
    CustomerEvent.objects.create(customer=source, actor=actor, kind="merged_away", data=data)
    return target


PURCHASE_COLUMNS = ("email", "order_id", "product", "purchased_at", "amount", "currency")


def purchases_import_csv(*, data: str | bytes, actor=None) -> dict:
    """Import purchase records from CSV (email, order_id, product, purchased_at, amount,
    currency; phone may replace email). Customers are resolved by contact point. Rows
    that fail are reported by line number; nothing is imported unless every row is valid.
    Bytes are decoded as their byte order mark says, else as UTF-8, else as Windows-1252
    (what spreadsheets on Windows save); NUL characters are dropped.
    """
    if isinstance(data, bytes):
        data, _encoding = bytes_decode(data)
    reader = csv.DictReader(io.StringIO(text_clean(data.removeprefix("\ufeff")), newline=""))
    missing = {"order_id", "product", "purchased_at", "amount"} - set(reader.fieldnames or [])
    if missing:
        raise PurchaseImportError([f"missing columns: {', '.join(sorted(missing))}"])
    rows, errors = [], []
    for line, row in enumerate(reader, start=2):
        try:
            rows.append(_purchase_row(row))
        except (ValueError, InvalidContactPoint) as exc:
            errors.append(f"line {line}: {exc}")
    if errors:
        raise PurchaseImportError(errors)
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            customer = customer_find_or_create(identity=row.pop("identity"), actor=actor)
            _, was_created = PurchaseRecord.objects.update_or_create(
                order_id=row["order_id"],
                product=row["product"],
                defaults={**row, "customer": customer},
            )
            created += was_created
            updated += not was_created
    return {"created": created, "updated": updated}


def _purchase_row(row: dict) -> dict:
    identity = Identity(
        email=(row.get("email") or "").strip(),
        phone=(row.get("phone") or "").strip(),
        name=(row.get("name") or "").strip(),
    )
    if not identity.email and not identity.phone:
        raise ValueError("needs an email or phone to find the customer")
    identity.contact_points()  # validates early, so the report names the line
    raw_when = (row.get("purchased_at") or "").strip()
    when = parse_datetime(raw_when)
    if when is None:
        day = parse_date(raw_when)
        if day is None:
            raise ValueError(f"purchased_at {raw_when!r} is not a date")
        when = datetime(day.year, day.month, day.day)
    if timezone.is_naive(when):
        when = timezone.make_aware(when, timezone.get_default_timezone())
    try:
        amount = Decimal((row.get("amount") or "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"amount {row.get('amount')!r} is not a number") from exc
    currency = (row.get("currency") or desk_currency()).strip().upper()
    if len(currency) != 3:
        raise ValueError(f"currency {currency!r} is not a 3-letter code")
    order_id, product = (row.get("order_id") or "").strip(), (row.get("product") or "").strip()
    if not order_id or not product:
        raise ValueError("order_id and product are required")
    return {
        "identity": identity,
        "order_id": order_id,
        "product": product,
        "purchased_at": when,
        "amount": amount,
        "currency": currency,
    }
