"""Operations commands: `audit verify`, `audit export`, `backup FILE`, `restore FILE` (docs/DEPLOY.md)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from webapp.extensions import db
from workflows import audit, backup


def register(app: Flask) -> None:
    audit_group = AppGroup("audit", help="The tamper-evident audit trail.")

    @audit_group.command("verify")
    def audit_verify() -> None:
        """Walk every audit chain; name the first changed or missing event (exit 1), exit 0 when intact."""
        checked, breaks = audit.verify(db.session)
        for found in breaks:
            click.echo(found.describe(), err=True)
        if breaks:
            click.echo(f"Audit trail BROKEN: {len(breaks)} chain(s) of {checked} events do not hold.", err=True)
            sys.exit(1)
        click.echo(f"Audit trail intact: {checked} events checked.")

    @audit_group.command("export")
    @click.option("--year", type=int, default=None, help="Every instance of this year.")
    @click.option("--unit", "unit_code", default=None, help="Every instance of this unit (code, e.g. STC).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="JSON file to write.")
    def audit_export(year: int | None, unit_code: str | None, output: str) -> None:
        """Write one unit's or one year's audit chains as JSON an inspector can verify (docs/AUDIT.md)."""
        if year is None and unit_code is None:
            raise click.UsageError("Give --year, --unit or both.")
        exported = audit.export(db.session, year=year, unit_code=unit_code)
        Path(output).write_text(json.dumps(exported, ensure_ascii=False, indent=1), encoding="utf-8")
        events = sum(len(c["events"]) for c in exported["chains"])
        click.echo(f"Exported {len(exported['chains'])} chains, {events} events to {output}")

    app.cli.add_command(audit_group)

    @app.cli.command("backup")
    @click.argument("file", type=click.Path(dir_okay=False))
    def backup_command(file: str) -> None:
        """Back up the database and the evidence files into FILE (a .tar.gz); safe while the app runs."""
        try:
            manifest = backup.backup(_database_url(), current_app.config["UPLOAD_DIR"], file)
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Backup written to {file}: {manifest['database']['kind']} database, "
                   f"{manifest['evidence_files']} evidence files.")

    @app.cli.command("restore")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    def restore_command(file: str) -> None:
        """Restore FILE into the configured (new, empty) database and evidence directory; stop the app first."""
        db.engine.dispose()  # no pooled connection may keep the old file or schema open
        try:
            manifest = backup.restore(file, _database_url(), current_app.config["UPLOAD_DIR"])
        except backup.BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Restored {file} (taken {manifest['taken_at']}): {manifest['evidence_files']} evidence files.")


def _database_url() -> str:
    return db.engine.url.render_as_string(hide_password=False)
