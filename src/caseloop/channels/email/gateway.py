"""The built-in SMTP/LMTP receiver (aiosmtpd): `caseloop mail-gateway --port N`.

Accepts mail only for configured mailboxes (and their plus-addresses), answers 550 5.1.1 for
any other recipient, 552 above the size limit, and answers 250 only once the message is
stored — as a case, a reply on one, or a quarantine record. A database failure answers
451, so the sending server keeps the message and tries again.

Off loopback, give it a certificate (STARTTLS, optionally required) and a login (AUTH,
offered only inside TLS), so only your own mail servers can hand mail over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import ssl
from dataclasses import dataclass
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

from .models import Mailbox
from .services import email_ingest, mailbox_for_address

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 30 * 1024 * 1024


def _mailbox_id(address: str) -> int | None:
    close_old_connections()
    mailbox = mailbox_for_address(address)
    return mailbox.pk if mailbox else None


def _store(raw: bytes, recipients: list[str], peer: str) -> bool:

    close_old_connections()
    mailbox = mailbox_for_address(recipients[0]) if recipients else None
    outcome = email_ingest(
        raw=raw,
        source=f"smtp:{mailbox.address if mailbox else '?'}",
        mailbox=mailbox if isinstance(mailbox, Mailbox) else None,
        envelope_recipients=recipients,
    )
    if outcome.result is not None:
        logger.info("smtp from %s stored on case %s", peer, outcome.result.case.reference)
    return outcome.stored


class IntakeHandler:
    """aiosmtpd handler: recipient checks and storage through the email pipeline."""

    async def handle_RCPT(self, server, session: Session, envelope: Envelope, address, options):
        try:
            known = await sync_to_async(_mailbox_id)(address)
        except Exception:  # noqa: BLE001 - the database is down: ask the sender to retry
            logger.exception("recipient check failed")
            return "451 4.3.0 Temporary failure, try again later"
        if known is None:
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session: Session, envelope: Envelope):
        # With decode_data=False aiosmtpd hands over the DATA as bytes; never None here.
        raw = cast("bytes | str", envelope.original_content or envelope.content)
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if session.peer else "?"
        try:
            stored = await sync_to_async(_store)(raw, list(envelope.rcpt_tos), peer)
        except Exception:  # noqa: BLE001 - not even quarantine worked: keep it at the sender
            logger.exception("storing a message from %s failed", peer)
            return "451 4.3.0 Temporary failure, try again later"
        if not stored:
            return "451 4.3.0 Temporary failure, try again later"
        if isinstance(server, LMTP):
            # LMTP answers DATA once per accepted recipient.
            return "\r\n".join(["250 2.0.0 Message accepted"] * max(len(envelope.rcpt_tos), 1))
        return "250 2.0.0 Message accepted"


@dataclass(frozen=True)
class GatewayLogin:
    """The one login sending servers must use (AUTH PLAIN or LOGIN, inside TLS)."""

    username: str
    password: str

    @classmethod
    def parse(cls, value: str) -> GatewayLogin:
        """From "user:password" (as in CASELOOP_GATEWAY_LOGIN)."""
        username, sep, password = value.partition(":")
        if not sep or not username or not password:
            raise ValueError("the gateway login must look like user:password")
        return cls(username, password)

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        # Both compared in full, in constant time, so timing reveals neither.
        user_ok = hmac.compare_digest(auth_data.login, self.username.encode())
        password_ok = hmac.compare_digest(auth_data.password, self.password.encode())
        if user_ok and password_ok:
            return AuthResult(success=True, auth_data=auth_data.login)
        logger.warning("failed gateway login from %s", session.peer[0] if session.peer else "?")
        return AuthResult(success=False, handled=False)


def tls_context_load(*, cert_file: str, key_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context


class GatewayController(Controller):
    """An aiosmtpd controller speaking SMTP, or LMTP for a local MTA to hand mail over;
    with `tls_context` it offers STARTTLS (required with `require_tls`), with `login` it
    accepts mail only after AUTH, which it offers only inside TLS."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 2525,
        lmtp: bool = False,
        max_bytes: int = DEFAULT_MAX_BYTES,
        tls_context: ssl.SSLContext | None = None,
        require_tls: bool = False,
        login: GatewayLogin | None = None,
        max_line_bytes: int | None = None,
    ) -> None:
        if (require_tls or login) and tls_context is None:
            raise ValueError("requiring TLS or a login needs a certificate (tls_context)")
        self.lmtp = lmtp
        # aiosmtpd refuses DATA lines over RFC 5321's 1,000 octets with "500 Line too long";
        # real mail has longer ones (one-line HTML, unwrapped base64) and common MTAs pass
        # them on, so the limit is raised (the size limit still bounds the whole message).
        base = LMTP if lmtp else SMTP
        self.server_class = type(
            f"Gateway{base.__name__}",
            (base,),
            {
                "line_length_limit": max_line_bytes
                if max_line_bytes is not None
                else settings.MAIL_GATEWAY_MAX_LINE_BYTES
            },
        )
        security: dict[str, Any] = {}
        if tls_context is not None:
            security = {"tls_context": tls_context, "require_starttls": require_tls}
        if login is not None:
            security.update(
                auth_required=True, auth_require_tls=True, authenticator=login.authenticate
            )
        super().__init__(
            IntakeHandler(),
            hostname=host,
            port=port,
            data_size_limit=max_bytes,
            decode_data=False,
            ident="Caseloop mail gateway",
            **security,
        )

    def factory(self):
        return self.server_class(self.handler, **self.SMTP_kwargs)

    def stop(self, *args, **kwargs):
        # Database connections opened by the handler live on the loop's worker thread.
        if self.loop.is_running():
            future = asyncio.run_coroutine_threadsafe(
                sync_to_async(connections.close_all)(), self.loop
            )
            with contextlib.suppress(Exception):
                future.result(timeout=5)
        super().stop(*args, **kwargs)
