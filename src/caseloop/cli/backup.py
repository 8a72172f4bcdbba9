"""Backing up and restoring the embedded desk: the SQLite database and the data directory's
files that cannot be rebuilt, in one tar.gz with a manifest.

What an archive holds (under `data/`, as the files lie in the data directory):
- `caseloop.sqlite3`: a copy made with SQLite's online backup API, so it is consistent
  while the desk serves and writes (WAL included); taken first, so every attachment it
  names is on disk when the files are copied after it;
- `secret_key` (when the desk generated one): signed links in sent mail stay valid;
- `media/` (attachments) and `models/` (the trained triage models).

Left out, because the desk rebuilds them: `static/` (collected at start), `cache/`, and the
job queue file (`jobs.sqlite3`): every side effect a queued job would carry out is in the
outbox, in the database, and the sweep runs it again.

`manifest.json`, the archive's last member, names the format, the Caseloop version, the
time, and each file's size and SHA-256; a restore checks every file against it before it
touches the data directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

FORMAT = 1
MANIFEST = "manifest.json"
PREFIX = "data"
DATABASE = "caseloop.sqlite3"
SECRET_KEY = "secret_key"
TREES = ("media", "models")
# What a bare start of `caseloop` creates in an empty data directory (settings, the job
# queue): a directory holding only these holds no desk.
CREATED_AT_START = frozenset(
    {SECRET_KEY, "static", "cache", "jobs.sqlite3", "jobs.sqlite3-wal", "jobs.sqlite3-shm"}
)
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Why a backup or a restore was refused; nothing was changed."""


@dataclass(frozen=True)
class Layout:
    """Where the desk keeps what an archive holds."""

    data_dir: Path
    database: Path
    media: Path

    def tree(self, name: str) -> Path:
        return self.media if name == "media" else self.data_dir / name


def caseloop_version() -> str:
    try:
        return version("caseloop")
    except PackageNotFoundError:
        return "unknown"


class _Hashing:
    """Reads exactly `size` bytes of `source` (a file that grows meanwhile is cut at the size
    its header announced), hashing them on the way."""

    def __init__(self, source: IO[bytes], size: int) -> None:
        self.source = source
        self.left = size
        self.digest = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        chunk = self.source.read(n)
        if len(chunk) < n:
            raise BackupError(f"{self.source.name} shrank while it was being archived")
        self.left -= len(chunk)
        self.digest.update(chunk)
        return chunk


def _database_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database, as one self-contained file."""
    if not source.exists():
        raise BackupError(f"no database at {source}: nothing to back up")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        # One step: the whole database is read from one snapshot, however busy the desk.
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
        (verdict,) = dst.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"the database copy failed its check: {verdict}")
    finally:
        dst.close()
        src.close()


def _files_of(layout: Layout) -> Iterator[tuple[str, Path]]:
    """(name in the archive, path on disk) of every file kept besides the database."""
    key = layout.data_dir / SECRET_KEY
    if key.is_file():
        yield SECRET_KEY, key
    for name in TREES:
        root = layout.tree(name)
        if not root.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                path = Path(dirpath) / filename
                if path.is_file() and not path.is_symlink():
                    yield f"{name}/{path.relative_to(root).as_posix()}", path


def _add(archive: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    stat = path.stat()
    info = tarfile.TarInfo(f"{PREFIX}/{name}")
    info.size = stat.st_size
    info.mtime = int(stat.st_mtime)
    info.mode = 0o600 if name == SECRET_KEY else 0o644
    with path.open("rb") as source:
        reader = _Hashing(source, stat.st_size)
        archive.addfile(info, cast(IO[bytes], reader))
    return {"path": name, "size": stat.st_size, "sha256": reader.digest.hexdigest()}


def backup_create(*, layout: Layout, target: Path) -> dict[str, Any]:
    """Write the archive to `target` (replaced whole, never left half-written); returns
    its manifest."""
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".caseloop-backup-", dir=target.parent) as scratch:
        copy = Path(scratch) / DATABASE
        _database_copy(layout.database, copy)
        partial = Path(scratch) / "archive.tar.gz"
        files: list[dict[str, Any]] = []
        with tarfile.open(partial, "w:gz") as archive:
            files.append(_add(archive, DATABASE, copy))
            for name, path in _files_of(layout):
                files.append(_add(archive, name, path))
            manifest = {
                "format": FORMAT,
                "caseloop_version": caseloop_version(),
                "created_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
                "database": DATABASE,
                "files": files,
                "total_bytes": sum(entry["size"] for entry in files),
            }
            body = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mtime = int(datetime.now(tz=UTC).timestamp())
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(body))
        os.replace(partial, target)
    return manifest


def _safe_name(name: str) -> str:
    """The relative path under the data directory an archive member stands for."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2 or path.parts[0] != PREFIX:
        raise BackupError(f"the archive holds an unexpected member: {name!r}")
    relative = PurePosixPath(*path.parts[1:]).as_posix()
    if relative not in (DATABASE, SECRET_KEY) and path.parts[1] not in TREES:
        raise BackupError(f"the archive holds an unexpected member: {name!r}")
    return relative


def _manifest_read(archive_path: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            member = archive.getmember(MANIFEST)
            handle = archive.extractfile(member)
            if handle is None:
                raise BackupError("the archive's manifest is not a file")
            manifest: dict[str, Any] = json.loads(handle.read())
    except KeyError:
        raise BackupError("the archive has no manifest.json: not a Caseloop backup") from None
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"the archive cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    names = [entry.get("path") for entry in manifest.get("files", [])]
    if DATABASE not in names or len(set(names)) != len(names):
        raise BackupError("the archive's manifest does not list one database")
    return manifest


def _extract_verified(archive_path: Path, manifest: dict[str, Any], staging: Path) -> None:
    """Every member into `staging`, each checked against the manifest; any difference (a
    changed, missing or extra file) refuses the whole archive."""
    expected = {entry["path"]: entry for entry in manifest["files"]}
    seen: set[str] = set()
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            for member in archive:
                if member.name == MANIFEST:
                    continue
                relative = _safe_name(member.name)
                entry = expected.get(relative)
                if entry is None or not member.isfile() or relative in seen:
                    raise BackupError(f"{relative} is not in the manifest as one file")
                seen.add(relative)
                handle = archive.extractfile(member)
                assert handle is not None  # a regular file, checked above
                out_path = staging / relative
                out_path.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                size = 0
                with out_path.open("wb") as out:
                    while chunk := handle.read(CHUNK):
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
                    raise BackupError(
                        f"{relative} does not match the manifest (changed or damaged)"
                    )
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise BackupError(f"the archive cannot be read: {exc}") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"the archive lacks files its manifest lists: {', '.join(missing)}")


def desk_present(layout: Layout) -> list[str]:
    """What in the data directory is a desk's (empty: nothing a restore would overwrite)."""
    found: list[str] = []
    if layout.database.exists() and layout.database.stat().st_size > 0:
        found.append(layout.database.name)
    if layout.data_dir.is_dir():
        for entry in sorted(layout.data_dir.iterdir()):
            if entry.name in CREATED_AT_START or entry == layout.database:
                continue
            if entry.name.startswith(".caseloop-restore-"):
                continue
            if entry.is_dir() and not any(entry.iterdir()):
                continue
            if entry.name.startswith(DATABASE) and entry.stat().st_size == 0:
                continue
            found.append(entry.name)
    if (
        layout.media.is_dir()
        and layout.media.parent != layout.data_dir
        and any(layout.media.iterdir())
    ):
        found.append(str(layout.media))
    return found


def _database_restore(staged: Path, target: Path) -> None:
    """The staged copy becomes the database. Through the backup API, so a WAL or a shared
    memory file beside the old database can never be replayed onto the new one."""
    src = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        dst.close()
        src.close()


def _tree_replace(staged: Path, target: Path, trash: Path) -> None:
    if target.exists():
        shutil.move(str(target), str(trash / target.name))
    if staged.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), str(target))


def backup_restore(*, layout: Layout, source: Path, force: bool = False) -> dict[str, Any]:
    """Put the desk of the archive `source` into the data directory; returns its manifest.
    Refuses (BackupError) an archive that does not match its manifest, and a data directory
    that already holds a desk unless `force`. The desk must not be running."""
    if not source.is_file():
        raise BackupError(f"no archive at {source}")
    manifest = _manifest_read(source)
    present = desk_present(layout)
    if present and not force:
        raise BackupError(
            f"{layout.data_dir} already holds a desk ({', '.join(present[:5])}); "
            "restore into an empty data directory, or pass --force to replace it"
        )
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".caseloop-restore-", dir=layout.data_dir) as scratch:
        staging = Path(scratch) / "data"
        staging.mkdir()
        _extract_verified(source, manifest, staging)
        trash = Path(scratch) / "replaced"
        trash.mkdir()
        _database_restore(staging / DATABASE, layout.database)
        key = staging / SECRET_KEY
        if key.exists():
            os.replace(key, layout.data_dir / SECRET_KEY)
            (layout.data_dir / SECRET_KEY).chmod(0o600)
        for name in TREES:
            _tree_replace(staging / name, layout.tree(name), trash)
    return manifest
