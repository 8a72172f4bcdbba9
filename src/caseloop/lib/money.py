"""Money as the desk shows it: amounts in the desk's currency (`CASELOOP_CURRENCY`) unless a
record says otherwise."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

SYMBOLS = {"GBP": "£", "USD": "$", "EUR": "€", "JPY": "¥", "INR": "₹"}


def desk_currency() -> str:
    """The three-letter code of the currency the desk works in."""
    return str(settings.DESK_CURRENCY)


def money_format(amount: Decimal | int | float, currency: str = "") -> str:
    """'£1,250.00' for a currency with a well-known symbol, else '1,250.00 CHF'; a blank
    currency is the desk's."""
    code = (currency or desk_currency()).upper()
    number = f"{Decimal(amount):,.2f}"
    symbol = SYMBOLS.get(code)
    return f"{symbol}{number}" if symbol else f"{number} {code}"
