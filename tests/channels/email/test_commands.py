"""`caseloop mailbox add|list|poll` and the mail gateway command."""

import io
import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time

import pytest
from django.core.management import CommandError, call_command

from caseloop.channels.email.models import Mailbox

from .conftest import free_port
from .mail import make_email

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_mailbox_add_and_list_never_show_the_password():
    out = run(
        "mailbox",
        "add",
        "--address",
        "Support@Example.com",
        "--imap-url",
        "imaps://desk:S3cretPass@imap.example.com/Support",
    )
    assert "support@example.com" in out
    mailbox = Mailbox.objects.get()
    assert mailbox.address == "support@example.com" and mailbox.imap_folder == "Support"
    listing = run("mailbox", "list")
    assert "support@example.com" in listing and "imap.example.com" in listing
    assert "S3cretPass" not in listing and "desk:***@" in listing


def test_mailbox_add_refuses_bad_input():
    with pytest.raises(CommandError, match="not a valid email"):
        run("mailbox", "add", "--address", "not-an-address")
    with pytest.raises(CommandError, match="imap:// or imaps://"):
        run("mailbox", "add", "--address", "a@example.com", "--imap-url", "http://x/")
    with pytest.raises(CommandError, match="plus"):
        run("mailbox", "add", "--address", "a+b@example.com")


def test_mailbox_poll_reports_what_it_fetched(dovecot):
    from imap_tools import MailBoxUnencrypted

    folder = f"Cmd{time.monotonic_ns()}"
    with MailBoxUnencrypted(dovecot.host, dovecot.port).login(
        dovecot.user, dovecot.password, initial_folder=None
    ) as client:
        client.folder.create(folder)
        client.append(make_email(), folder)
    run("mailbox", "add", "--address", "support@desk.test", "--imap-url", dovecot.url(folder))
    out = run("mailbox", "poll")
    assert "support@desk.test: 1 fetched, 1 stored, 0 duplicates, 0 quarantined" in out


CASELOOP = [sys.executable, "-m", "caseloop.cli"]


class EmbeddedDesk:
    """A separate embedded desk (SQLite in a temp dir) with one mailbox, whatever database
    the suite runs on, and the gateway command run as its own process."""

    def __init__(self, data_dir) -> None:
        self.data_dir = data_dir
        self.env = {**os.environ, "CASELOOP_DATA_DIR": str(data_dir)}
        self.env.pop("DATABASE_URL", None)
        self.env.pop("REDIS_URL", None)
        subprocess.run([*CASELOOP, "migrate", "-v0"], env=self.env, check=True, timeout=120)
        subprocess.run(
            [*CASELOOP, "mailbox", "add", "--address", "help@desk.test"],
            env=self.env,
            check=True,
            timeout=60,
        )

    def gateway(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [*CASELOOP, "mail-gateway", *args],
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def stop(process: subprocess.Popen) -> int:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        return process.returncode

    def case_count(self) -> int:
        with sqlite3.connect(self.data_dir / "caseloop.sqlite3") as conn:
            return conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]


def test_the_mail_gateway_command_serves_smtp_until_stopped(tmp_path):
    port = free_port()
    desk = EmbeddedDesk(tmp_path)
    process = desk.gateway("--port", str(port))
    try:
        assert "listening on 127.0.0.1" in process.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.sendmail("ann@example.com", ["help@desk.test"], make_email()) == {}
            code, _ = client.rcpt("other@desk.test")
            assert code in (503, 550)
    finally:
        returncode = desk.stop(process)
    assert returncode == 0
    assert desk.case_count() == 1


def test_the_mail_gateway_command_serves_starttls_with_a_login_from_the_environment(tmp_path):
    import ssl

    from .conftest import tls_certificate_make

    tls_certificate_make(tmp_path / "tls")
    port = free_port()
    desk = EmbeddedDesk(tmp_path)
    tls = ["--tls-cert", str(tmp_path / "tls" / "cert.pem"), "--tls-key"]
    broken = subprocess.run(
        [*CASELOOP, "mail-gateway", "--port", str(port), *tls, str(tmp_path / "missing.pem")],
        env=desk.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert broken.returncode != 0 and "cannot load the TLS certificate" in broken.stderr
    process = desk.gateway(
        "--port",
        str(port),
        *tls,
        str(tmp_path / "tls" / "key.pem"),
        "--require-tls",
        env={"CASELOOP_GATEWAY_LOGIN": "relay:s3cret-relay"},
    )
    try:
        banner = process.stdout.readline()
        assert "STARTTLS, login required" in banner and "s3cret" not in banner
        context = ssl.create_default_context(cafile=str(tmp_path / "tls" / "cert.pem"))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.starttls(context=context)
            client.login("relay", "s3cret-relay")
            assert client.sendmail("ann@example.com", ["help@desk.test"], make_email()) == {}
    finally:
        returncode = desk.stop(process)
    assert returncode == 0
    assert desk.case_count() == 1
