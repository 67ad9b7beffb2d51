"""Backup and restore of the database and the evidence files, as one .tar.gz archive.

SQLite: the online backup API (a consistent copy while the app keeps writing). PostgreSQL: pg_dump's custom format,
restored by pg_restore. The database is copied first and the evidence files after: files are written before their rows
commit and are never changed, so every evidence row in the copy finds its file in the archive.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

FORMAT = "bacninh-backup/1"


class BackupError(Exception):
    """A backup or restore that cannot be done, with what to do about it."""


def _kind(database_url: str) -> str:
    backend = make_url(database_url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"Unsupported database for backup: {backend}")
    return backend


def _sqlite_path(database_url: str) -> str:
    path = make_url(database_url).database
    if not path or path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored; use a file.")
    return path


def _libpq_url(database_url: str) -> str:
    """The URL pg_dump understands (no SQLAlchemy driver suffix)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _run(command: list[str]) -> None:
    try:
        finished = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL client tools are needed)") from None
    if finished.returncode != 0:
        raise BackupError(f"{command[0]} failed: {finished.stderr.strip()}")


def backup(database_url: str, evidence_dir: str | os.PathLike[str], archive: str | os.PathLike[str]) -> dict[str, Any]:
    """Write ARCHIVE: the database, every evidence file, and a manifest. Returns the manifest."""
    kind = _kind(database_url)
    evidence = Path(evidence_dir)
    with tempfile.TemporaryDirectory() as work:
        if kind == "sqlite":
            dump = Path(work) / "database.sqlite"
            source = sqlite3.connect(_sqlite_path(database_url))
            target = sqlite3.connect(dump)
            try:
                with target:
                    source.backup(target)  # page by page, restarting if a writer changes a copied page
            finally:
                target.close()
                source.close()
        else:
            dump = Path(work) / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}",
                  f"--dbname={_libpq_url(database_url)}"])
        files = sorted(p for p in evidence.rglob("*") if p.is_file()) if evidence.is_dir() else []
        manifest = {
            "format": FORMAT,
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": {"kind": kind, "file": dump.name},
            "evidence_files": len(files),
        }
        partial = Path(f"{archive}.partial")
        with tarfile.open(partial, "w:gz") as tar:
            body = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
            tar.add(dump, arcname=dump.name)
            for path in files:
                tar.add(path, arcname=f"evidence/{path.relative_to(evidence).as_posix()}")
        partial.replace(archive)  # never a half-written archive under the final name
    return manifest


def restore(archive: str | os.PathLike[str], database_url: str, evidence_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Restore ARCHIVE into an EMPTY database and the evidence directory. Returns the archive's manifest."""
    kind = _kind(database_url)
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive, "r:gz") as tar:
        tar.extractall(work, filter="data")  # refuses absolute paths, '..' and links out of the folder
        manifest_path = Path(work) / "manifest.json"
        if not manifest_path.is_file():
            raise BackupError(f"{archive} is not a backup made by this application (no manifest)")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT:
            raise BackupError(f"Unknown backup format: {manifest.get('format')}")
        if manifest["database"]["kind"] != kind:
            raise BackupError(f"This backup holds a {manifest['database']['kind']} database; the target is {kind}. "
                              "Move data between databases with an export, not a restore.")
        _refuse_non_empty(database_url)
        dump = Path(work) / manifest["database"]["file"]
        if kind == "sqlite":
            target_path = Path(_sqlite_path(database_url))
            target_path.parent.mkdir(parents=True, exist_ok=True)
            source, target = sqlite3.connect(dump), sqlite3.connect(target_path)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--dbname={_libpq_url(database_url)}", str(dump)])
        restored = Path(work) / "evidence"
        if restored.is_dir():
            target_dir = Path(evidence_dir)
            for path in restored.rglob("*"):
                if path.is_file():
                    destination = target_dir / path.relative_to(restored)
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, destination)
    return manifest


def _refuse_non_empty(database_url: str) -> None:
    """A restore goes into a new database: merging two histories would break the audit chains and the ids."""
    engine = create_engine(database_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("The target database is not empty; create a new one (or a new SQLite file) to restore into.")
