"""Demo data (`seed-demo`) and a whole simulated cycle driven through the services as each role would (`simulate`)."""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows import cycles, definitions, subjects, tasks, users
from workflows.calendar import LOCAL_TZ
from workflows.criteria import CRITERIA
from workflows.errors import InvalidInput
from workflows.messages import Text
from workflows.models import (
    Block,
    DeputyAssignment,
    Evaluation,
    HumanTask,
    OfficeTerm,
    Role,
    TaskState,
    Unit,
    UnitHistory,
    User,
    UserRole,
)
from workflows.results import import_prior_ranks
from workflows.units import DIC_CODE, REGULATION_EFFECTIVE, load_units, units_of_year

CENTRAL_USERS = [
    ("admin", "Quản trị hệ thống", [Role.ADMIN], None),
    ("owner", "Chủ quy trình (Sở TT&TT)", [Role.PROCESS_OWNER], DIC_CODE),
    ("supervisor", "Giám sát tiến độ", [Role.SUPERVISOR], "VPUB"),
    ("dic", "Chuyên viên Sở TT&TT", [Role.DIC_OFFICER], DIC_CODE),
    ("dic_leader", "Lãnh đạo Sở TT&TT", [Role.DIC_LEADER], DIC_CODE),
    ("home_affairs", "Chuyên viên Sở Nội vụ", [Role.HOME_AFFAIRS], "SNV"),
    ("committee", "Lãnh đạo UBND tỉnh", [Role.COMMITTEE], None),
]
UNIT_PEOPLE = [("officer", "Cán bộ chuyên trách CNTT", Role.AGENCY_OFFICER),
              ("head", "Thủ trưởng", Role.AGENCY_HEAD),
              ("deputy", "Cấp phó", Role.DEPUTY)]


def seed(session: Session, password: str | None = None) -> list[tuple[str, str, str]]:
    """Create every unit, one login per role and per unit, deputy assignments, and deploy bpmn/. Idempotent."""
    load_units(session)
    definitions.deploy_directory(session)
    credentials = []
    existing = set(session.scalars(select(User.username)))
    people: list[tuple[str, str, list[Role], str | None]] = list(CENTRAL_USERS)
    for unit in session.scalars(select(Unit).order_by(Unit.code)):
        name = unit.history[-1].name_vi
        for suffix, title, role in UNIT_PEOPLE:
            people.append((f"{unit.code.lower()}_{suffix}", f"{title} {name}", [role], unit.code))
    for username, full_name, roles, unit_code in people:
        pw = password or f"demo-{username}"
        if username not in existing:
            users.create_user(session, username, pw, full_name, roles, unit_code, demo=True)
        credentials.append((username, pw if username not in existing else "(unchanged)", ",".join(roles)))
    session.flush()
    _assign_demo_deputies(session)
    _record_demo_terms(session)
    session.commit()
    return credentials


DEMO_HEAD_CHANGE = ("SYT", date(2025, 7, 1), "Nguyễn Văn Hòa")  # A15's case: a head change on 01/07/2025


def _record_demo_terms(session: Session) -> None:
    """Dates of office for the demo heads (demo data, never for a real database): each unit's head login from
    02/01/2024, except that Sở Y tế changed head on 01/07/2025, so that 2025 has two head subjects there (A15)."""
    with_terms = set(session.scalars(select(OfficeTerm.unit_code)))
    changed, change_day, former = DEMO_HEAD_CHANGE
    for unit_code in session.scalars(select(Unit.code)):
        head = session.scalar(select(User).where(User.username == f"{unit_code.lower()}_head"))
        if head is None or unit_code in with_terms:
            continue
        start = date(2024, 1, 2)
        if unit_code == changed:
            session.add(OfficeTerm(unit_code=unit_code, person_name=former, valid_from=start,
                                   valid_to=change_day - timedelta(days=1), document="Dữ liệu mẫu: QĐ 10/QĐ-UBND"))
            start = change_day
        session.add(OfficeTerm(unit_code=unit_code, user_id=head.id, person_name=head.full_name, valid_from=start,
                               valid_to=None, document=f"Dữ liệu mẫu: QĐ bổ nhiệm {unit_code}"))


def _assign_demo_deputies(session: Session) -> None:
    by_name = {u.username: u for u in session.scalars(select(User))}
    assigned = set(session.scalars(select(DeputyAssignment.deputy_id)))
    for unit_code in session.scalars(select(Unit.code)):
        head, deputy = by_name.get(f"{unit_code.lower()}_head"), by_name.get(f"{unit_code.lower()}_deputy")
        if head and deputy and deputy.id not in assigned:
            users.assign_deputy(session, head, deputy, f"01/QĐ-{unit_code}", date(2024, 1, 2),
                                date(2024, 1, 2), date(2030, 12, 31))


# --- simulation --------------------------------------------------------------------------------------------------

# For the 28 real units: a scenario per unit that reaches every rule R1–R9 and every flag at least once.
# (sections violated, slow conclusions, rank, previous rank, superior+lacks, special, path)
FIXED_SCENARIOS: dict[str, tuple[list[int], bool | None, int | None, int | None, bool, bool, str]] = {
    "VPUB": ([], False, 1, 2, False, False, "plain"),
    "SNV": ([2], True, 5, 6, False, False, "plain"),  # R1
    "STP": ([1, 3], True, 6, 7, False, False, "plain"),  # R2
    "SKHDT": ([2, 4], True, 18, 19, False, False, "plain"),  # R3: bottom 15% two years running
    "STC": ([4], False, 7, 8, False, False, "plain"),  # R4
    "SCT": ([1, 2, 3], True, 8, 9, False, False, "plain"),  # R5
    "SNNPTNT": ([1, 2, 3, 4], True, 11, 10, True, False, "plain"),  # R6
    "SGTVT": ([1, 2, 3, 4], False, 19, 5, False, False, "plain"),  # R7
    "SXD": ([3], None, 9, 11, False, False, "plain"),  # R8
    "STNMT": ([], True, 10, 12, False, False, "plain"),  # R9
    "STTTT": ([], False, 2, 1, False, False, "plain"),  # DIC itself: four eyes (A23)
    "SLDTBXH": ([1], True, 3, 3, False, False, "plain"),  # TOP20_BUT_VIOLATION
    "SVHTTDL": ([], False, 20, 20, False, False, "plain"),  # BOT15_BUT_NO_VIOLATION
    "SKHCN": ([], False, 4, 4, False, True, "plain"),  # excellent + special achievement
    "SGDDT": ([], False, 12, 13, False, False, "missing"),  # no report: LATE_REPORT
    "SYT": ([], False, 13, 14, False, False, "dic_returns"),
    "SNGV": ([], False, 14, 15, False, False, "head_returns"),
    "TTT": ([], False, 15, 16, False, False, "deputy"),
    "BQLKCN": ([], False, None, None, False, False, "plain"),  # NOT_RANKED
    "DPTTH": ([], False, 16, 17, False, False, "plain"),
    "BNI": ([], False, 1, 1, False, False, "plain"),  # tied first place: RANK_TIE
    "TSO": ([], False, 1, 2, False, False, "plain"),  # tied first place: RANK_TIE
    "YPH": ([], False, 3, 3, False, False, "plain"),
    "QVO": ([], False, 4, 4, False, False, "dic_returns"),
    "TDU": ([], False, 5, 5, False, False, "deputy"),
    "TTH": ([2], True, 6, 6, False, False, "plain"),
    "GBI": ([], False, 7, 7, False, False, "plain"),
    "LTA": ([], False, 8, 8, False, False, "plain"),
}
# How DIC settles each manual-review outcome in the simulation (docs/RULES.md, Rules R1–R9, lists the options).
MANUAL_SETTLEMENT = {
    "R4": "criticism", "R5": "reprimand", "R7": "reprimand", "R8": "criticism", "R9": "none",
}


@dataclass
class Scenario:
    code: str
    block: Block
    sections: list[int]
    slow: bool | None
    rank: int | None
    prev_rank: int | None
    superior: bool
    special: bool
    path: str


@dataclass
class SimulationResult:
    year: int
    units: int
    results: list[dict[str, Any]]
    timings: list[tuple[str, float]] = field(default_factory=list)  # (step id, seconds) per completion
    cycle_seconds: float = 0.0
    open_seconds: float = 0.0

    def timings_dict(self) -> dict[str, Any]:
        return {"year": self.year, "units": self.units, "cycle_seconds": self.cycle_seconds,
                "open_seconds": self.open_seconds, "completions": self.timings}


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, dtime(hour), tzinfo=LOCAL_TZ)


def _ensure_units(session: Session, count: int) -> list[str]:
    load_units(session)
    real = [u.code for u in units_of_year(session, 2013)]
    if count <= len(real):
        return real[:count]
    codes = list(real)
    existing = set(session.scalars(select(Unit.code)))
    for number in range(1, count - len(real) + 1):
        code = f"GEN{number:05d}"
        codes.append(code)
        if code not in existing:
            block = Block.DISTRICT if number % 3 == 0 else Block.DEPARTMENT
            session.add(Unit(code=code, history=[UnitHistory(
                name_vi=f"Đơn vị mô phỏng {number}", name_en=f"Simulated unit {number}", block=block,
                valid_from=REGULATION_EFFECTIVE, valid_to=None, source="simulate")]))
    session.flush()
    return codes


def _ensure_people(session: Session, codes: list[str]) -> dict[str, User]:
    """The simulation's logins; one password hash shared by all so that 2,800 units do not take minutes to hash."""
    people = {u.username: u for u in session.scalars(select(User))}
    shared_hash = users.hash_password("simulation-only")
    wanted = [(u, n, r, c) for u, n, r, c in CENTRAL_USERS]
    for code in codes:
        for suffix, title, role in UNIT_PEOPLE:
            wanted.append((f"{code.lower()}_{suffix}", f"{title} {code}", [role], code))
    for username, full_name, roles, unit_code in wanted:
        if username not in people:
            user = User(username=username, full_name=full_name, password_hash=shared_hash, unit_code=unit_code)
            user.roles = [UserRole(role=r) for r in roles]
            session.add(user)
            people[username] = user
    session.flush()
    assigned = set(session.scalars(select(DeputyAssignment.deputy_id)))
    for code in codes:
        deputy = people[f"{code.lower()}_deputy"]
        if deputy.id not in assigned:
            session.add(DeputyAssignment(
                deputy_id=deputy.id, head_id=people[f"{code.lower()}_head"].id, unit_code=code,
                document_number=f"01/QĐ-{code}", document_date=date(2013, 10, 10), valid_from=date(2013, 10, 10),
                valid_to=date(2100, 12, 31), scope=["approve_report"]))
    session.flush()
    return people


def _scenarios(session: Session, year: int, codes: list[str], rng: random.Random) -> list[Scenario]:
    blocks = {u.code: u.block for u in units_of_year(session, year)}
    if sorted(codes) == sorted(FIXED_SCENARIOS):
        return [Scenario(c, blocks[c], *FIXED_SCENARIOS[c]) for c in codes]
    scenarios = []
    by_block: dict[Block, list[str]] = {}
    for code in codes:
        by_block.setdefault(blocks[code], []).append(code)
    ranks: dict[str, int] = {}
    prev: dict[str, int] = {}
    for members in by_block.values():
        for target in (ranks, prev):
            order = list(range(1, len(members) + 1))
            rng.shuffle(order)
            target.update(zip(members, order, strict=True))
    for code in codes:
        violations = rng.choices([0, 1, 2, 3, 4], weights=[60, 20, 12, 5, 3])[0]
        path = rng.choices(["plain", "head_returns", "dic_returns", "deputy", "missing"], weights=[75, 6, 6, 10, 3])[0]
        scenarios.append(Scenario(
            code, blocks[code], sorted(rng.sample([1, 2, 3, 4], violations)), rng.choice([True, False, False, None]),
            ranks[code], prev[code], rng.random() < 0.5, rng.random() < 0.02, path))
    return scenarios


def simulate(session: Session, year: int, agencies: int, seed: int = 1) -> SimulationResult:
    """Run YEAR's whole cycle for AGENCIES units (the real ones first, then generated ones) through the services."""
    if agencies < 1:
        raise InvalidInput(Text("Cần ít nhất một đơn vị."), {"agencies": "must be at least 1"})
    rng = random.Random(seed)
    started = time.perf_counter()
    codes = _ensure_units(session, agencies)
    definitions.deploy_directory(session)
    people = _ensure_people(session, codes)
    session.commit()
    scenarios = _scenarios(session, year, codes, rng)
    by_code = {s.code: s for s in scenarios}
    block_sizes = {b: sum(1 for s in scenarios if s.block == b) for b in Block}
    has_prev = session.scalar(select(Evaluation.id).where(Evaluation.year == year - 1).limit(1))
    if not has_prev:
        import_prior_ranks(session, year - 1, "\n".join(
            f"{s.code},{s.prev_rank},{block_sizes[s.block]}" for s in scenarios if s.prev_rank is not None))
        session.commit()
    result = SimulationResult(year, len(codes), [])

    opening = time.perf_counter()
    cycle = cycles.open_cycle(session, year, date(year, 12, 15), people["dic_leader"], now=_at(date(year, 11, 2)),
                              unit_codes=codes)
    result.open_seconds = time.perf_counter() - opening
    day = date(year, 11, 3)

    def complete(user: User, task_id: int, data: dict[str, Any], when: date) -> None:
        began = time.perf_counter()
        task = tasks.complete_task(session, task_id, user, data, now=_at(when))
        result.timings.append((task.step_id, time.perf_counter() - began))

    def open_task(code: str | None, step: str) -> int:
        # Only the id, as an inbox link would give it: the service loads the task itself.
        query = select(HumanTask.id).where(HumanTask.state == TaskState.OPEN, HumanTask.step_id == step,
                                           HumanTask.year == year)
        query = query.where(HumanTask.unit_code == code) if code else query
        found = session.scalar(query.limit(1))
        if found is None:
            raise RuntimeError(f"simulation expected an open '{step}' task for {code or 'the cycle'}")
        return found

    for s in scenarios:
        if s.path == "missing":
            continue
        officer, head = people[f"{s.code.lower()}_officer"], people[f"{s.code.lower()}_head"]
        approver = people[f"{s.code.lower()}_deputy"] if s.path == "deputy" else head
        complete(officer, open_task(s.code, "draft_report"), _report_payload(s), day)
        if s.path == "head_returns":
            complete(head, open_task(s.code, "approve_report"),
                     {"head_decision": "return", "head_comment": "Bổ sung minh chứng cho Mục 2."}, day)
            complete(officer, open_task(s.code, "draft_report"), _report_payload(s), day)
        complete(approver, open_task(s.code, "approve_report"), {"head_decision": "approve"}, day)
        if s.path == "dic_returns":
            complete(people["dic"], open_task(s.code, "review_report"),
                     {"dic_decision": "return", "dic_comment": "Thiếu số liệu kinh phí theo nội dung chi."}, day)
            complete(officer, open_task(s.code, "draft_report"), _report_payload(s), day)
            complete(approver, open_task(s.code, "approve_report"), {"head_decision": "approve"}, day)
        complete(people["dic"], open_task(s.code, "review_report"), {"dic_decision": "accept"}, day)

    if any(s.path == "missing" for s in scenarios):
        # The day after the deadline as the calendar rolled it (15/12 on a weekend moves to the Monday).
        cycles.fire_due(session, _at(cycle.report_due + timedelta(days=1), 1))

    next_year = date(year + 1, 1, 15)
    units_payload = {
        s.code: {
            "ict_rank": s.rank,
            "ict_units": block_sizes[s.block] if s.rank is not None else None,
            "slow_conclusions": s.slow,
            "superior_requires_review": s.superior,
            "lacks_responsibility": s.superior,
            "special_achievement": s.special,
            **({"appraisal": {c.id: "fail" if c.section in s.sections else "pass" for c in CRITERIA}}
               if s.path == "missing" else {}),  # no report: DIC appraises from what it knows
        }
        for s in scenarios
    }
    not_ranked = {s.code: "Không có trong bảng xếp hạng ICT Index năm nay." for s in scenarios if s.rank is None}
    complete(people["dic"], open_task(None, "consolidate"), {"units": units_payload, "not_ranked": not_ranked},
             next_year)

    evaluation_task = open_task(None, "evaluate")
    overrides = _settle_manual_reviews(session, year, by_code)
    complete(people["dic_leader"], evaluation_task, {"overrides": overrides}, next_year)
    complete(people["home_affairs"], open_task(None, "review_dic_self_evaluation"), {}, next_year)
    complete(people["home_affairs"], open_task(None, "home_affairs_proposal"),
             {"ha_decision": "return_to_dic", "ha_reason": "Đề nghị Sở TT&TT rà soát lại các trường hợp thủ công."},
             next_year)
    complete(people["dic_leader"], open_task(None, "evaluate"), {}, next_year)
    complete(people["home_affairs"], open_task(None, "review_dic_self_evaluation"), {}, next_year)
    complete(people["home_affairs"], open_task(None, "home_affairs_proposal"),
             {"ha_decision": "propose", **_demo_subject_choices(session, year, codes)}, next_year)
    decided_on = date(year + 1, 4, 20)
    complete(people["committee"], open_task(None, "committee_decision"),
             {"committee_action": "decide", "decision_number": f"{rng.randint(100, 999)}/QĐ-UBND",
              "decision_date": decided_on.isoformat()}, decided_on)
    result.results = cycles.results(session, year)
    result.cycle_seconds = time.perf_counter() - started
    return result


def _demo_subject_choices(session: Session, year: int, codes: list[str]) -> dict[str, Any]:
    """Where more than one head served (A15), Home Affairs evaluates the head in office on 31/12, and says why."""
    candidates = subjects.subjects_of_year(session, year)
    choices = [{"unit_code": code, "subjects": [candidates[code][0]["name"]],
                "reason": "Thủ trưởng giữ chức vụ ngày 31/12 chịu trách nhiệm về kết quả của năm."}
               for code in subjects.unchosen(session, year, set(codes))]
    return {"subject_choices": choices} if choices else {}


def _report_payload(s: Scenario) -> dict[str, Any]:
    return {
        "it_staff_count": 2,
        "edoc_sent_pct": 90,
        "edoc_received_pct": 85,
        "difficulties": "Thiếu kinh phí nâng cấp hạ tầng.",
        "criteria": {
            c.id: {"status": "fail" if c.section in s.sections else "pass", "note": "", "evidence": [f"BC-{c.id}"]}
            for c in CRITERIA
        },
        "budget": {"infrastructure": 500_000_000, "software": 200_000_000, "training": 50_000_000},
    }


def _settle_manual_reviews(session: Session, year: int, scenarios: dict[str, Scenario]) -> list[dict[str, Any]]:
    overrides = []
    computed = select(Evaluation).where(Evaluation.year == year, Evaluation.imported.is_(False))
    for evaluation in session.scalars(computed):
        rule = (evaluation.proposed or {}).get("sanction_rule")
        if evaluation.rating == "manual_review":
            overrides.append({"unit_code": evaluation.unit_code, "field": "rating", "value": "complete",
                              "reason": "Đã xem xét hồ sơ: không vi phạm mục nào, xếp Hoàn thành nhiệm vụ."})
        if evaluation.sanction == "manual_review":
            overrides.append({"unit_code": evaluation.unit_code, "field": "sanction",
                              "value": MANUAL_SETTLEMENT.get(rule, "none"),
                              "reason": f"Quyết định của Sở TT&TT cho trường hợp {rule} theo hồ sơ thực tế."})
    return overrides


def format_summary(result: SimulationResult) -> str:
    lines = [f"Năm {result.year}: {result.units} đơn vị; cả chu trình {result.cycle_seconds:.2f} s",
             f"{'Mã':<9} {'Mục VP':<8} {'Hạng':<7} {'Xếp loại':<28} {'Xử lý':<20} {'Khen thưởng':<31} Căn cứ / lý do"]
    for row in result.results:
        rank = f"{row['ict_rank']}/{row['ict_units']}" if row["ict_rank"] else "-"
        sections = ",".join(str(s) for s in row["sections_violated"]) or "-"
        changed = " *" if row["overrides"] else ""
        lines.append(
            f"{row['unit_code']:<9} {sections:<8} {rank:<7} {row['rating_vi']:<28} {row['sanction_vi']:<20} "
            f"{row['reward_vi']:<31} {', '.join(row['articles'])}"
            f"{' | ' + ', '.join(row['reasons']) if row['reasons'] else ''}{changed}"
        )
    lines.append("* = đã điều chỉnh, có lý do (xem kết quả chi tiết)")
    return "\n".join(lines)
