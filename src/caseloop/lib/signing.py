"""HMAC-SHA256 request signatures, shared by every signed webhook, in and out.

Header: `X-Caseloop-Signature: t=<unix seconds>,v1=<hex>` where the hex is
HMAC-SHA256(secret, "<t>.<raw body>"). Several v1 values may be sent while a secret rotates.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from caseloop.lib.errors import DomainError, ErrorKind

SIGNATURE_HEADER = "X-Caseloop-Signature"


class SignatureError(DomainError):
    """The request is not proven to come from the holder of the secret."""

    code = "signature_invalid"
    kind = ErrorKind.UNAUTHENTICATED


class SignatureStale(SignatureError):
    """Correctly signed, but outside the allowed time window: a possible replay."""

    code = "signature_stale"


def signature_compute(*, secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value a sender puts on `body` (used by integrators and tests)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature_compute(secret=secret, timestamp=timestamp, body=body)}"


def signature_verify(
    *, secret: str, header: str, body: bytes, tolerance: int, now: float | None = None
) -> int:
    """Check the signature header against the raw body; returns the signed timestamp.
    Raises SignatureError (missing, malformed or wrong) or SignatureStale (too old or too far
    in the future)."""
    if not header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates:
        raise SignatureError("malformed signature header: expected t=<unix>,v1=<hex>")
    expected = signature_compute(secret=secret, timestamp=timestamp, body=body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise SignatureError("signature does not match the body")
    now = time.time() if now is None else now
    age = now - timestamp
    if abs(age) > tolerance:
        direction = "old" if age > 0 else "far in the future"
        raise SignatureStale(
            f"signature timestamp is {abs(int(age))}s {direction}; the window is {tolerance}s"
        )
    return timestamp
