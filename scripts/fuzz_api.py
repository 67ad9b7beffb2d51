"""Fuzz the JSON API with schemathesis: every operation of /api/v1/openapi.json, once per role.

    python scripts/fuzz_api.py [--examples 50] [--database-url postgresql://…/fuzz_api] [--roles dic,admin]

Builds a fresh database (a temporary SQLite file unless --database-url is given; its tables are dropped first),
simulates a decided 2024 cycle for a few agencies and opens 2026, mints a bearer token for each role, then lets
schemathesis generate requests (valid ones, and with --negative invalid ones too) against the app in-process (WSGI, no
network). Path parameters are drawn both freely and from ids that exist, so the answers include real 200s. Each
response is checked: no server error, a documented status code, a body that matches the documented schema.
Prints cases, 5xx and schema violations per operation; exits 1 when any check failed.
"""
from __future__ import annotations

import argparse
import re
import sys
import tempfile
import traceback
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The usernames of workflows.demo's simulation: central roles by name, agency roles as <unit code>_<suffix> (the first
# simulated unit).
ROLES = {
    "dic": "dic", "dic_leader": "dic_leader", "officer": "{unit}_officer", "head": "{unit}_head",
    "deputy": "{unit}_deputy", "home_affairs": "home_affairs", "committee": "committee", "supervisor": "supervisor",
    "owner": "owner", "admin": "admin",
}
DECIDED_YEAR, OPEN_YEAR = 2024, 2026
PROTECTED_DATABASES = {"postgres", "test", "bacninh", "template0", "template1"}


@dataclass
class Tally:
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def build_app(url: str | None) -> Any:
    from sqlalchemy.engine import make_url

    from config import TestConfig, database_url
    from webapp import create_app

    url = database_url(url or f"sqlite:///{tempfile.mkdtemp()}/fuzz.sqlite")
    name = make_url(url).database or ""
    if make_url(url).get_backend_name() != "sqlite" and (name in PROTECTED_DATABASES
                                                         or not re.fullmatch(r"\w+", name)):
        raise SystemExit(f"refusing to fuzz database '{name}': every table in it is dropped first")

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        SQLALCHEMY_ENGINE_OPTIONS: dict = {}

    return create_app(Config)


def seed(app: Any) -> dict[str, dict[str, list[Any]]]:
    """A decided year and an open one; returns, per path parameter, values that exist."""
    from sqlalchemy import select

    from webapp.extensions import db
    from workflows import cycles, demo, users
    from workflows.models import Base, HumanTask, ProcessInstance, TaskState

    users._SCRYPT = {"n": 2**4, "r": 8, "p": 1}  # the fuzzer signs in thousands of times
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        Base.metadata.create_all(db.engine)
        demo.simulate(db.session, DECIDED_YEAR, 4)
        codes = sorted(db.session.scalars(select(HumanTask.unit_code).where(HumanTask.unit_code.is_not(None))
                                          .distinct()))
        people = demo._ensure_people(db.session, codes)
        cycles.open_cycle(db.session, OPEN_YEAR, date(OPEN_YEAR, 12, 15), people["dic_leader"], unit_codes=codes)
        db.session.commit()
        open_tasks = list(db.session.scalars(select(HumanTask.id).where(HumanTask.state == TaskState.OPEN)))
        done_tasks = list(db.session.scalars(select(HumanTask.id).where(HumanTask.state != TaskState.OPEN)
                                             .limit(5)))
        instances = list(db.session.scalars(select(ProcessInstance.id).limit(8)))
    return {
        "task_id": open_tasks[:8] + done_tasks,
        "year": [DECIDED_YEAR, OPEN_YEAR],
        "instance_id": instances,
        "key": ["agency_report", "unit_evaluation", "annual_cycle"],
        "kind": ["dic_report", "ha_proposal", "decision"],
        "unit_code": codes[:3],
    }


def mint(app: Any, username: str) -> str:
    from sqlalchemy import select

    from webapp.extensions import db
    from workflows import accounts
    from workflows.models import User

    with app.app_context():
        user = db.session.scalars(select(User).where(User.username == username)).one()
        return accounts.issue_token(db.session, user, name="fuzz")


def known_path_parameters(operation: Any, known: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = [p.name for p in operation.path_parameters]
    if not names or "token_id" in names:  # token ids: only generated ones (a real one would revoke the fuzzer's)
        return []
    first = {name: known[name][0] for name in names}
    variants = [first] + [{**first, name: value} for name in names for value in known[name][1:]]
    return variants


def fuzz(app: Any, roles: list[str], examples: int, negative: bool) -> dict[str, Tally]:
    import schemathesis
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    known = seed(app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negative else [])
    tallies: dict[str, Tally] = defaultdict(Tally)
    for result in schema.get_all_operations():
        operation = result.ok()
        tally = tallies[f"{operation.method.upper()} {operation.path}"]
        for role in roles:
            strategies = [operation.as_strategy(generation_mode=mode) for mode in modes]
            strategies += [operation.as_strategy(path_parameters=p) for p in known_path_parameters(operation, known)]
            # A fresh token per operation: DELETE /tokens/{id} may revoke the previous one.
            username = ROLES[role].format(unit=known["unit_code"][0].lower())
            headers = {"Authorization": f"Bearer {mint(app, username)}"}
            run_cases(st.one_of(*strategies), role, headers, tally, examples)
    return tallies


def run_cases(strategy: Any, role: str, headers: dict[str, str], tally: Tally, examples: int) -> None:
    import hypothesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

    @hypothesis.settings(max_examples=examples, deadline=None, database=None,
                         suppress_health_check=list(hypothesis.HealthCheck),
                         phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate])
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        tally.cases += 1
        try:
            response = case.call(headers=headers)
        except Exception as error:  # TESTING lets a view's exception through: that request would be a 500
            frame = traceback.extract_tb(error.__traceback__)[-1]
            tally.server_errors.append(f"{role}: {type(error).__name__}: {error} ({Path(frame.filename).name}:"
                                       f"{frame.lineno}) {case.as_curl_command(headers={})}")
            return
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                where = tally.server_errors if response.status_code >= 500 else tally.violations
                where.append(f"{role}: {failure.title}: {_first_lines(failure.message)}  "
                             f"[{case.as_curl_command(headers={})[:300]}]")

    run()


def _first_lines(message: str) -> str:
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    value = lines[lines.index("Value:") + 1] if "Value:" in lines[:-1] else ""
    return " ".join([lines[0] if lines else ""] + ([f"(value {value[:120]})"] if value else []))


def report(tallies: dict[str, Tally]) -> int:
    total = sum(t.cases for t in tallies.values())
    errors = sum(len(t.server_errors) for t in tallies.values())
    violations = sum(len(t.violations) for t in tallies.values())
    width = max(len(label) for label in tallies)
    print(f"{'operation':<{width}} {'cases':>6} {'5xx':>5} {'schema':>6}  statuses")
    for label, tally in tallies.items():
        statuses = " ".join(f"{code}×{n}" for code, n in sorted(tally.statuses.items()))
        print(f"{label:<{width}} {tally.cases:>6} {len(tally.server_errors):>5} {len(tally.violations):>6}  {statuses}")
    print(f"{'total':<{width}} {total:>6} {errors:>5} {violations:>6}")
    for label, tally in tallies.items():
        for line in dict.fromkeys(tally.server_errors + tally.violations):  # first occurrence of each, in order
            print(f"\n{label}: {line}")
    return 1 if errors or violations else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=50, help="generated cases per operation and role")
    parser.add_argument("--roles", default=",".join(ROLES), help=f"comma-separated, of: {', '.join(ROLES)}")
    parser.add_argument("--negative", action="store_true", help="also generate requests that break the schema")
    parser.add_argument("--database-url", default=None, help="e.g. postgresql://postgres@127.0.0.1/fuzz_api")
    args = parser.parse_args()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise SystemExit(f"unknown roles: {', '.join(sorted(unknown))}")
    app = build_app(args.database_url)
    sys.exit(report(fuzz(app, roles, args.examples, args.negative)))


if __name__ == "__main__":
    main()
