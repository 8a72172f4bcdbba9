"""Real peers on loopback for the email tests: our SMTP gateway, a capturing SMTP server for
outgoing mail, and a Dovecot IMAP server started from a throwaway configuration."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from caseloop.channels.email.gateway import GatewayController
from caseloop.channels.email.services import mailbox_add


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mailbox(db):
    return mailbox_add(address="support@desk.test", display_name="Desk Support")


@pytest.fixture
def gateway(transactional_db, mailbox):
    """Our SMTP gateway on a free loopback port; yields (host, port)."""
    controller = GatewayController(host="127.0.0.1", port=free_port(), max_bytes=200_000)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


@dataclass
class SinkHandler:
    """A capturing SMTP server: keeps what it receives; refuses listed recipients with 550."""

    received: list = field(default_factory=list)
    refuse: set = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: recipient does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on loopback that Django's SMTP backend delivers to."""
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield handler
    finally:
        controller.stop()


DOVECOT_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/tls/cert.pem
ssl_key = <{root}/tls/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
}}
"""


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str

    tls_port: int
    ca_file: str  # the server's self-signed certificate, for clients to trust

    def url(self, folder: str = "INBOX", *, tls: bool = False) -> str:
        scheme, port = ("imaps", self.tls_port) if tls else ("imap", self.port)
        return f"{scheme}://{self.user}:{self.password}@{self.host}:{port}/{folder}"


def tls_certificate_make(directory: Path) -> None:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    directory.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(directory / "key.pem"),
            "-out",
            str(directory / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def dovecot():
    """A real Dovecot IMAP server on free loopback ports (plain and TLS, with a self-signed
    certificate) with a Maildir in a temp dir.

    As root, Dovecot refuses to run its login and mail processes as root, so they run as
    `nobody` (which owns the Maildir); as another user everything runs as that user."""
    binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
    if not os.path.exists(binary):
        raise RuntimeError("dovecot is not installed: run `make system-deps`")
    root = Path(tempfile.mkdtemp(prefix="caseloop-dovecot-"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        nobody = pwd.getpwnam("nobody")
        internal_user, internal_group = "root", "root"
        login_user = mail_user = "nobody"
        mail_group = str(nobody.pw_gid)
        for sub in ("mail", "home"):
            os.chown(root / sub, nobody.pw_uid, nobody.pw_gid)
    else:
        internal_user = login_user = mail_user = me.pw_name
        internal_group = mail_group = str(me.pw_gid)
    port, tls_port = free_port(), free_port()
    tls_certificate_make(root / "tls")
    (root / "passwd").write_text("support:{PLAIN}imap-secret\n")
    conf = root / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            root=root,
            port=port,
            tls_port=tls_port,
            internal_user=internal_user,
            internal_group=internal_group,
            login_user=login_user,
            mail_user=mail_user,
            mail_group=mail_group,
        )
    )
    process = subprocess.Popen(
        [binary, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
            process.kill()
            raise RuntimeError(f"dovecot did not start: {process.stderr.read()!r} {log}")
        time.sleep(0.1)
    try:
        yield Dovecot(
            host="127.0.0.1",
            port=port,
            user="support",
            password="imap-secret",
            tls_port=tls_port,
            ca_file=str(root / "tls" / "cert.pem"),
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
