"""`caseloop mail-gateway --port N [--host H] [--lmtp]`: the built-in SMTP/LMTP receiver."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from caseloop.channels.email.gateway import DEFAULT_MAX_BYTES, GatewayController


class Command(BaseCommand):
    help = "Receive mail for the configured mailboxes over SMTP (or LMTP) and file it as cases."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2525)
        parser.add_argument("--lmtp", action="store_true", help="Speak LMTP (from a local MTA).")
        parser.add_argument(
            "--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="Larger mail gets 552."
        )

    def handle(self, *args, host: str, port: int, lmtp: bool, max_bytes: int, **options):
        controller = GatewayController(host=host, port=port, lmtp=lmtp, max_bytes=max_bytes)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        controller.start()
        protocol = "LMTP" if lmtp else "SMTP"
        self.stdout.write(f"mail gateway ({protocol}) listening on {host}:{port}", ending="\n")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("mail gateway stopped")
