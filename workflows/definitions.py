"""Deployment of BPMN/DMN files as immutable, numbered definition versions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import engine
from workflows.errors import NotFound
from workflows.models import DefinitionVersion, ProcessDefinition, User

BPMN_DIR = Path(__file__).resolve().parent.parent / "bpmn"


@dataclass(frozen=True)
class Deployment:
    process_key: str
    version: int
    created: bool  # False when the files were unchanged and the latest version was kept


def deploy_files(
    session: Session, files: dict[str, bytes], actor: User | None = None, comment: str | None = None
) -> list[Deployment]:
    """Compile FILES as one set; store a new version of each process whose files changed since its latest version."""
    compiled = engine.compile_files(files)
    results = []
    for key, process in sorted(compiled.items()):
        definition = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key))
        if definition is None:
            definition = ProcessDefinition(key=key, name=process.name)
            session.add(definition)
            session.flush()
        latest = _latest(session, definition.id)
        if latest is not None and latest.sha256 == process.sha256:
            results.append(Deployment(key, latest.version, created=False))
            continue
        definition.name = process.name
        version = DefinitionVersion(
            definition_id=definition.id,
            version=(latest.version + 1) if latest else 1,
            sha256=process.sha256,
            files=process.files,
            spec_json=process.spec_json,
            comment=comment,
            created_by_id=actor.id if actor else None,
        )
        session.add(version)
        session.flush()
        results.append(Deployment(key, version.version, created=True))
    return results


def preview_files(session: Session, files: dict[str, bytes]) -> list[Deployment]:
    """What deploy_files would do with FILES, storing nothing: each process's next version, or its unchanged latest."""
    results = []
    for key, process in sorted(engine.compile_files(files).items()):
        definition_id = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == key))
        latest = _latest(session, definition_id) if definition_id is not None else None
        if latest is not None and latest.sha256 == process.sha256:
            results.append(Deployment(key, latest.version, created=False))
        else:
            results.append(Deployment(key, (latest.version + 1) if latest else 1, created=True))
    return results


def deploy_directory(session: Session, directory: Path = BPMN_DIR, actor: User | None = None) -> list[Deployment]:
    """Deploy every .bpmn and .dmn file of DIRECTORY (the repository's bpmn/ by default)."""
    files = {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    return deploy_files(session, files, actor, comment=f"deploy {directory.name}/")


def _latest(session: Session, definition_id: int) -> DefinitionVersion | None:
    return session.scalar(
        select(DefinitionVersion)
        .where(DefinitionVersion.definition_id == definition_id)
        .order_by(DefinitionVersion.version.desc())
        .limit(1)
    )


def latest_version(session: Session, key: str) -> DefinitionVersion:
    """The version new cycles start on: the one the process owner chose, else the newest deployed."""
    chosen = session.scalar(
        select(DefinitionVersion).join(ProcessDefinition, ProcessDefinition.current_version_id == DefinitionVersion.id)
        .where(ProcessDefinition.key == key)
    )
    if chosen is not None:
        return chosen
    version = session.scalar(
        select(DefinitionVersion)
        .join(ProcessDefinition, DefinitionVersion.definition_id == ProcessDefinition.id)
        .where(ProcessDefinition.key == key)
        .order_by(DefinitionVersion.version.desc())
        .limit(1)
    )
    if version is None:
        raise NotFound(f"Process '{key}' is not deployed; run `flask --app webapp deploy` first.")
    return version

