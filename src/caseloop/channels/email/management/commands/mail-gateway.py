"""`caseloop mail-gateway --port N [--host H] [--lmtp] [--tls-cert F --tls-key F
[--require-tls]]`: the built-in SMTP/LMTP receiver. With CASELOOP_GATEWAY_LOGIN=user:password
in the environment (never on the command line) senders must log in, inside TLS."""

from __future__ import annotations

import os
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from caseloop.channels.email.gateway import (
    DEFAULT_MAX_BYTES,
    GatewayController,
    GatewayLogin,
    tls_context_load,
)


class Command(BaseCommand):
    help = "Receive mail for the configured mailboxes over SMTP (or LMTP) and file it as cases."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="Speak LMTP (from a local MTA).")
        parser.add_argument(
            "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="Larger mail gets 552."
        )
        parser.add_argument("--tls-cert", default="", help="PEM certificate: offer STARTTLS.")
        parser.add_argument("--tls-key", default="", help="PEM private key of --tls-cert.")
        parser.add_argument(
            "--require-tls", action="store_true", help="Refuse mail before STARTTLS."
        )

    def handle(self, *args, host: str, port: int, lmtp: bool, max_bytes: int, **options):
        tls_context = None
        if options["tls_cert"] or options["tls_key"]:
            try:
                tls_context = tls_context_load(
                    cert_file=options["tls_cert"], key_file=options["tls_key"]
                )
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot load the TLS certificate: {exc}") from exc
        login = None
        if os.environ.get("CASELOOP_GATEWAY_LOGIN"):
            try:
                login = GatewayLogin.parse(os.environ["CASELOOP_GATEWAY_LOGIN"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        try:
            controller = GatewayController(
                host=host,
                port=port,
                lmtp=lmtp,
                max_bytes=max_bytes,
                tls_context=tls_context,
                require_tls=options["require_tls"],
                login=login,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        controller.start()
        protocol = "LMTP" if lmtp else "SMTP"
        extras = (", STARTTLS" if tls_context else "") + (", login required" if login else "")
        self.stdout.write(
            f"mail gateway ({protocol}{extras}) listening on {host}:{port}", ending="\n"
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("mail gateway stopped")
