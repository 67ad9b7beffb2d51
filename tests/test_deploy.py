"""The production shape: probes, request ids in logs, compose.yaml running the documented commands, gunicorn."""
from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from flask_migrate import stamp
from sqlalchemy import inspect, text

from config import TestConfig
from webapp import create_app
from webapp.extensions import db
from webapp.logging import JsonFormatter

ROOT = Path(__file__).resolve().parent.parent
DEPLOY_DOCS = (ROOT / "docs" / "DEPLOY.md").read_text(encoding="utf-8")


def _documented_commands() -> set[str]:
    blocks = re.findall(r"```sh\n(.*?)```", DEPLOY_DOCS, re.S)
    return {line.strip() for block in blocks for line in block.splitlines() if line.strip()}


def test_compose_services_run_the_commands_the_docs_give():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "migrate", "app1", "app2", "worker1", "worker2", "proxy"} <= set(services)
    documented = _documented_commands()
    commands = {name: service["command"] for name, service in services.items() if "command" in service}
    assert set(commands) == {"migrate", "app1", "app2", "worker1", "worker2"}
    for name, command in commands.items():
        assert command in documented, f"{name}: {command!r} is not in docs/DEPLOY.md"
    assert commands["app1"] == commands["app2"] == "gunicorn --config gunicorn.conf.py"
    assert commands["worker1"] == commands["worker2"] == "flask --app webapp worker"
    assert services["postgres"]["image"] == "postgres:15" and services["postgres"]["volumes"]
    assert services["app1"]["environment"]["EVIDENCE_DIR"] == "/data/evidence"
    nginx_mount = services["proxy"]["volumes"][0].split(":")[0]
    nginx = (ROOT / nginx_mount).read_text(encoding="utf-8")
    assert "server app1:8000" in nginx and "server app2:8000" in nginx and "X-Request-ID" in nginx
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in dockerfile and 'CMD ["gunicorn", "--config", "gunicorn.conf.py"]' in dockerfile
    for served_by in (dockerfile, (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")):
        assert "flask run" not in served_by and "gunicorn" in served_by


@pytest.mark.committed_database  # Alembic stamps through its own connection
def test_health_is_up_and_ready_only_when_migrations_are_current(app):
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    behind = client.get("/readyz")  # tables made by create_all: no Alembic revision at all
    assert behind.status_code == 503 and behind.json["migrations"] == "behind"
    with app.app_context():
        stamp(revision="head")
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["migrations"] == "current"
    with app.app_context():
        stamp(revision="517e13e3e2d9")  # an older revision: a release whose init-db has not run yet
    assert client.get("/readyz").status_code == 503
    with app.app_context():  # Alembic's table is not among the models: leave no stamp for the next test
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()


def test_a_request_id_is_kept_or_made_and_logged_with_the_request(app, caplog):
    client = app.test_client()
    # Alembic's env.py (run in-process by another test's stamp) disables existing loggers; a server never runs it.
    logging.getLogger("webapp.request").disabled = False
    with caplog.at_level(logging.INFO, logger="webapp.request"):
        kept = client.get("/healthz", headers={"X-Request-ID": "proxy-42.a"})
        made = client.get("/healthz", headers={"X-Request-ID": 'bad id" {"forged": 1}'})
    assert kept.headers["X-Request-ID"] == "proxy-42.a"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])
    first, second = (r for r in caplog.records if r.name == "webapp.request")
    line = json.loads(JsonFormatter().format(first))
    assert line["request_id"] == "proxy-42.a" and line["method"] == "GET" and line["path"] == "/healthz"
    assert line["status"] == 200 and line["duration_ms"] >= 0 and line["level"] == "INFO" and "time" in line
    assert json.loads(JsonFormatter().format(second))["request_id"] == made.headers["X-Request-ID"]


def _file_app(path: Path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{path}"
        UPLOAD_DIR = str(path.parent / f"{path.stem}-evidence")

    return create_app(Config)


def test_backup_and_restore_commands_round_trip_a_sqlite_file(tmp_path):
    live = _file_app(tmp_path / "live.sqlite")
    with live.app_context():
        db.create_all()
    Path(live.config["UPLOAD_DIR"], "ab").mkdir(parents=True)
    Path(live.config["UPLOAD_DIR"], "ab", "ab1.pdf").write_bytes(b"%PDF-1.4")
    archive = tmp_path / "backup.tar.gz"
    made = live.test_cli_runner().invoke(args=["backup", str(archive)])
    assert made.exit_code == 0 and "1 evidence files" in made.output

    fresh = _file_app(tmp_path / "fresh.sqlite")
    restored = fresh.test_cli_runner().invoke(args=["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    with fresh.app_context():
        assert "audit_event" in inspect(db.engine).get_table_names()
    assert Path(fresh.config["UPLOAD_DIR"], "ab", "ab1.pdf").read_bytes() == b"%PDF-1.4"
    again = fresh.test_cli_runner().invoke(args=["restore", str(archive)])
    assert again.exit_code == 1 and "not empty" in again.output


def test_gunicorn_serves_the_app(tmp_path):
    """Real processes: gunicorn on a free port with gunicorn.conf.py, one GET /healthz, then stopped (~2 s)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}", "SECRET_KEY": "gunicorn-test",
           "WEB_CONCURRENCY": "1", "FLASK_CONFIG": "development", "LOG_FORMAT": "json"}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py",
                               "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, answer = time.monotonic() + 20, None
        while answer is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            except OSError:
                time.sleep(0.1)
        assert answer is not None, "gunicorn did not answer"
        assert answer.status == 200 and json.loads(answer.read()) == {"status": "ok"}
        assert answer.headers["X-Request-ID"]
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=20)
    request_lines = [json.loads(line) for line in errors.splitlines() if '"webapp.request"' in line]
    assert request_lines and request_lines[0]["path"] == "/healthz" and request_lines[0]["status"] == 200
