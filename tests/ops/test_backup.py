"""`caseloop backup` and `caseloop restore` on a real embedded desk (SQLite in a data
directory of its own), through the real command line."""

from __future__ import annotations

import gzip
import io
import json
import os
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.serving import BIN

ATTACHMENT = b"%PDF-1.4 the customer's receipt"
MODEL = b"a trained category model"

SEED = """
import django
django.setup()
from tests.builders import make_case
make_case(subject="The kettle never came")
make_case(subject="Refund for a broken lamp")
"""
READ = """
import django, json
django.setup()
from django.conf import settings
from caseloop.cases.models import Case
print(json.dumps({
    "subjects": sorted(Case.objects.values_list("subject", flat=True)),
    "secret_key": settings.SECRET_KEY,
}))
"""


def desk_env(data_dir: Path) -> dict[str, str]:
    unset = {"DATABASE_URL", "REDIS_URL", "CASELOOP_TESTING", "SECRET_KEY"}
    return {
        **{name: value for name, value in os.environ.items() if name not in unset},
        "CASELOOP_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def caseloop(data_dir: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [str(BIN / "caseloop"), *args],
        env=env or desk_env(data_dir),
        capture_output=True,
        text=True,
        timeout=180,
    )


def python(data_dir: Path, script: str) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "-c", script],
        env=desk_env(data_dir),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> Path:
    """A migrated desk with two cases, an attachment and a trained model on disk."""
    data_dir = tmp_path_factory.mktemp("desk") / "data"
    migrated = caseloop(data_dir, "migrate", "--noinput", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    python(data_dir, SEED)
    (data_dir / "media" / "attachments" / "1").mkdir(parents=True)
    (data_dir / "media" / "attachments" / "1" / "receipt.pdf").write_bytes(ATTACHMENT)
    (data_dir / "models").mkdir(exist_ok=True)
    (data_dir / "models" / "category-v1.joblib").write_bytes(MODEL)
    return data_dir


@pytest.fixture(scope="module")
def archive(desk, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backups") / "desk.tar.gz"
    done = caseloop(desk, "backup", str(path))
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["files"] == 4
    return path


def test_the_archive_holds_the_database_the_key_the_files_and_a_manifest(archive):
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.load(tar.extractfile("manifest.json"))
    assert names == {
        "manifest.json",
        "data/caseloop.sqlite3",
        "data/secret_key",
        "data/media/attachments/1/receipt.pdf",
        "data/models/category-v1.joblib",
    }
    assert manifest["format"] == 1
    assert manifest["caseloop_version"]
    assert manifest["created_at"]
    files = {entry["path"]: entry for entry in manifest["files"]}
    assert files["media/attachments/1/receipt.pdf"]["size"] == len(ATTACHMENT)
    assert len(files["caseloop.sqlite3"]["sha256"]) == 64


def test_backup_then_restore_brings_back_the_cases_the_key_and_the_files(desk, archive, tmp_path):
    restored = tmp_path / "restored"
    done = caseloop(restored, "restore", str(archive))
    assert done.returncode == 0, done.stderr[-2000:]
    before = json.loads(python(desk, READ))
    after = json.loads(python(restored, READ))
    assert after["subjects"] == ["Refund for a broken lamp", "The kettle never came"]
    assert after == before
    assert (restored / "media" / "attachments" / "1" / "receipt.pdf").read_bytes() == ATTACHMENT
    assert (restored / "models" / "category-v1.joblib").read_bytes() == MODEL
    assert (restored / "secret_key").stat().st_mode & 0o777 == 0o600


def rewritten(archive: Path, target: Path, change: dict[str, bytes]) -> Path:
    """A copy of `archive` with some members' contents replaced, its manifest untouched."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            body = source.extractfile(member).read()
            body = change.get(member.name, body)
            member.size = len(body)
            out.addfile(member, io.BytesIO(body))
    return target


def test_restore_refuses_a_tampered_archive_and_changes_nothing(archive, tmp_path):
    tampered = rewritten(
        archive,
        tmp_path / "tampered.tar.gz",
        {"data/media/attachments/1/receipt.pdf": b"%PDF-1.4 something else"},
    )
    restored = tmp_path / "restored"
    done = caseloop(restored, "restore", str(tampered))
    assert done.returncode != 0
    assert "media/attachments/1/receipt.pdf does not match the manifest" in done.stderr
    assert not (restored / "caseloop.sqlite3").exists()
    assert not (restored / "media").exists()


def test_restore_refuses_a_damaged_archive(archive, tmp_path):
    damaged = tmp_path / "damaged.tar.gz"
    raw = gzip.decompress(archive.read_bytes())
    damaged.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    done = caseloop(tmp_path / "restored", "restore", str(damaged))
    assert done.returncode != 0
    assert "CommandError" in done.stderr


def test_restore_refuses_a_data_dir_that_holds_a_desk_unless_forced(desk, archive, tmp_path):
    other = tmp_path / "other"
    assert caseloop(other, "restore", str(archive)).returncode == 0
    stale = other / "media" / "attachments" / "9" / "stale.txt"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"not in the archive")
    done = caseloop(other, "restore", str(archive))
    assert done.returncode != 0
    assert "already holds a desk" in done.stderr
    assert "--force" in done.stderr
    assert stale.exists()
    forced = caseloop(other, "restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr[-2000:]
    assert not stale.exists()
    assert json.loads(python(other, READ)) == json.loads(python(desk, READ))


def test_backup_and_restore_refuse_postgresql_and_say_to_use_pg_dump(archive, tmp_path):
    env = {**desk_env(tmp_path), "DATABASE_URL": "postgres://caseloop@127.0.0.1:9/desk"}
    for args in (("restore", str(archive)), ("backup", str(tmp_path / "x.tar.gz"))):
        done = caseloop(tmp_path, *args, env=env)
        assert done.returncode != 0
        assert "pg_dump" in done.stderr


WRITER = """
import sqlite3, sys, time
from pathlib import Path
db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
db.execute("PRAGMA busy_timeout=30000")
db.execute("CREATE TABLE IF NOT EXISTS ops_probe (n INTEGER NOT NULL, pad TEXT NOT NULL)")
n = 0
while not Path(sys.argv[2]).exists():
    n += 1
    db.execute("BEGIN IMMEDIATE")
    db.execute("INSERT INTO ops_probe VALUES (?, ?)", (n, "x" * 2000))
    db.execute("COMMIT")
print(n)
"""


def test_a_backup_taken_while_the_desk_writes_is_consistent(desk, tmp_path):
    database = desk / "caseloop.sqlite3"
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [str(BIN / "python"), "-c", WRITER, str(database), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while True:
            probe = sqlite3.connect(database, timeout=30)
            try:
                rows = probe.execute("SELECT count(*) FROM ops_probe").fetchone()[0]
            except sqlite3.OperationalError:
                rows = 0
            probe.close()
            if rows >= 50:
                break
        archive = tmp_path / "busy.tar.gz"
        done = caseloop(desk, "backup", str(archive))
        assert done.returncode == 0, done.stderr[-2000:]
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=60)[0])
    with tarfile.open(archive) as tar:
        tar.extract("data/caseloop.sqlite3", tmp_path, filter="data")
    copy = sqlite3.connect(tmp_path / "data" / "caseloop.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count, last = copy.execute("SELECT count(*), max(n) FROM ops_probe").fetchone()
    copy.close()
    # A snapshot: every row up to one point, none after it.
    assert 50 <= count == last <= written
