"""`caseloop serve`: the whole desk in one command — ASGI server plus the job consumer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from caseloop.cli.jobs import consumer_create


def proxy_options(trusted_proxies: list[str]) -> dict[str, Any]:
    """uvicorn believes X-Forwarded-For and X-Forwarded-Proto only from the proxies in
    CASELOOP_TRUSTED_PROXIES; without any, the connecting address is the client (uvicorn's
    own default would believe any local peer)."""
    if not trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(trusted_proxies)}


class Command(BaseCommand):
    help = "Serve the desk (HTTP and WebSockets through uvicorn) with the job consumer in-process."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
        parser.add_argument(
            "--no-jobs",
            action="store_true",
            help="do not run the job consumer here (run `caseloop worker`)",
        )
        parser.add_argument("--no-migrate", action="store_true")
        parser.add_argument(
            "--access-log",
            action="store_true",
            help="log every request (also CASELOOP_ACCESS_LOG=1); off by default",
        )

    def handle(
        self,
        *args,
        host: str,
        port: int,
        workers: int,
        no_jobs: bool,
        no_migrate: bool,
        access_log: bool = False,
        **options,
    ) -> None:
        import uvicorn

        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        consumer = None
        if not no_jobs and not settings.HUEY_IMMEDIATE:
            # start() runs the worker and scheduler threads without taking over signals,
            # which uvicorn needs in this main thread.
            consumer = consumer_create(workers=2)
            consumer.start()
        # What this thread read is done with: its connection goes back to the pool.
        connections.close_all()
        self.stdout.write(
            f"Caseloop is serving on http://{host}:{port}/ "
            f"(jobs: {'in-process' if consumer else 'external worker'})\n"
            f"Sign in at http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/login/"
            " - stop with Ctrl+C"
        )
        try:
            uvicorn.run(
                "caseloop.asgi:application",
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                access_log=access_log or settings.ACCESS_LOG,
                # With JSON logs, uvicorn's own lines go through the desk's handlers too.
                log_config=None if settings.LOG_FORMAT == "json" else uvicorn.config.LOGGING_CONFIG,
                lifespan="off",
                **proxy_options(settings.TRUSTED_PROXIES),
            )
        finally:
            if consumer is not None:
                consumer.stop(graceful=True)
