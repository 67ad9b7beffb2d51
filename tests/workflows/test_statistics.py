"""An agency's history over two years and the statistics for DIC and the Committee, on 2024 seeded as a decided
year and 2025 run through the whole cycle by demo.simulate (28 units, the fixed scenarios of workflows/demo.py)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from statistics_seed import NOW, seed_two_years

from workflows import agency_history, statistics, users
from workflows.errors import NotAllowed, NotFound
from workflows.models import Evaluation, Report


@pytest.fixture
def two_years(session):
    seed_two_years(session)
    return session


def person(session, username):
    return users.get_by_username(session, username)


def test_history_shows_each_year_side_by_side_with_the_bottom_15_status(two_years):
    history = agency_history.agency_history(two_years, "SKHDT", person(two_years, "dic_leader"), NOW)
    assert [r.year for r in history.rows] == [2024, 2025]
    old, new = history.rows
    assert (old.ict_rank, old.ict_units, new.ict_rank, new.ict_units) == (19, 20, 18, 20)
    assert (old.rating, old.sanction) == ("Không hoàn thành nhiệm vụ", "Phê bình")
    assert (new.rating, new.sanction) == ("Không hoàn thành nhiệm vụ", "Khiển trách")  # R3 (Điều 17.1b)
    assert new.decision_number and new.final
    assert old.timeliness == "Không có báo cáo trong hệ thống" and new.timeliness == "Nộp đúng hạn"
    assert new.report_instance_id is not None
    assert old.rank_class == new.rank_class == "Nhóm 15% thấp nhất"
    # 2024 has no 2023 rank: not two years running; 2025 is (18th and 19th of 20: floor(15% × 20) = 3 places)
    assert old.bottom.two_years is False and old.bottom.prev_class == "not_ranked"
    assert history.status == new.bottom and new.bottom.two_years and not new.bottom.uncertain
    assert "hai năm liền" in history.status.sentence
    assert history.trend == [(2024, 19, 20), (2025, 18, 20)]


def test_bottom_status_agrees_with_what_the_rules_proposed(two_years):
    for evaluation in two_years.scalars(select(Evaluation).where(Evaluation.year == 2025,
                                                                 Evaluation.ict_rank.is_not(None))):
        history = agency_history.agency_history(two_years, evaluation.unit_code, person(two_years, "committee"), NOW)
        status = history.rows[-1].bottom
        assert (status.this_class, status.prev_class) == (evaluation.proposed["ict_class"],
                                                          evaluation.proposed["prev_ict_class"])


def test_top_ranked_unit_is_not_bottom_two_years(two_years):
    history = agency_history.agency_history(two_years, "VPUB", person(two_years, "committee"), NOW)
    assert [r.rank_class for r in history.rows] == ["Nhóm 20% cao nhất", "Nhóm 20% cao nhất"]
    assert history.status.two_years is False
    assert history.rows[-1].rating == "Hoàn thành xuất sắc nhiệm vụ"


def test_own_people_see_decided_outcomes_only(two_years):
    two_years.execute(update(Evaluation).where(Evaluation.year == 2025).values(final=False))
    officer = person(two_years, "skhdt_officer")
    history = agency_history.agency_history(two_years, "SKHDT", officer, NOW)
    assert history.rows[0].rating == "Không hoàn thành nhiệm vụ"
    assert history.rows[1].rating is None and history.rows[1].ict_rank == 18
    assert agency_history.agency_history(two_years, "SKHDT", person(two_years, "dic"), NOW).rows[1].rating


def test_history_refuses_other_agencies_and_unknown_units(two_years):
    with pytest.raises(NotAllowed):
        agency_history.agency_history(two_years, "SKHDT", person(two_years, "vpub_officer"), NOW)
    with pytest.raises(NotAllowed):
        agency_history.agency_history(two_years, "SKHDT", person(two_years, "owner"), NOW)
    with pytest.raises(NotFound):
        agency_history.agency_history(two_years, "NOPE", person(two_years, "dic"), NOW)


def test_statistics_refuse_agencies_and_process_owners(two_years):
    for username in ("skhdt_officer", "skhdt_head", "owner"):
        with pytest.raises(NotAllowed):
            statistics.statistics(two_years, person(two_years, username), NOW)


def test_statistics_match_a_hand_count(two_years):
    stats = statistics.statistics(two_years, person(two_years, "home_affairs"), NOW)
    # Ratings. 2024 as seeded. 2025: excellent = top 20% of departments (ranks 1–4) without violation: VPUB, STTTT,
    # SKHCN (SLDTBXH, 3rd, violated Mục 1); incomplete = the ten units with a violated section; the rest complete.
    assert [(y.year, y.counts["excellent"], y.counts["complete"], y.counts["incomplete"], y.total, y.final)
            for y in stats.ratings] == [(2024, 1, 25, 2, 28, True), (2025, 3, 15, 10, 28, True)]
    # Sections. 2025: Mục 1 STP SCT SNNPTNT SGTVT SLDTBXH; Mục 2 SNV SKHDT SCT SNNPTNT SGTVT TTH;
    # Mục 3 STP SCT SNNPTNT SGTVT SXD; Mục 4 SKHDT STC SNNPTNT SGTVT.
    assert [(y.year, y.evaluated, y.counts) for y in stats.sections] == [
        (2024, 28, {1: 1, 2: 2, 3: 1, 4: 2}), (2025, 28, {1: 5, 2: 6, 3: 5, 4: 4})]
    assert stats.section_totals == {1: 6, 2: 8, 3: 6, 4: 6}
    # Reports: 2025 only (2024 was not run here); SGDDT never sent its report.
    assert [(r.year, r.reports, r.on_time, r.late, r.missing, r.pending, r.flagged) for r in stats.reports] == [
        (2025, 28, 27, 0, 1, 0, 1)]
    # Rank movement 2025 against 2024: up 14 (VPUB SNV STP SKHDT STC SCT SXD STNMT SGDDT SYT SNGV TTT DPTTH TSO),
    # down 3 (SNNPTNT 10→11, SGTVT 5→19, STTTT 1→2), BQLKCN has no rank, the other 10 kept theirs.
    assert stats.movement_year == 2025
    assert stats.movement_counts == {"up": 14, "same": 10, "down": 3, "no_comparison": 1}
    first, last = stats.movements[0], stats.movements[-1]
    assert (first.unit_code, first.change) == ("SXD", 2)  # 11→9, ahead of STNMT's 12→10 by its better rank
    assert last.unit_code == "BQLKCN" and last.change is None
    assert stats.movements[-2].unit_code == "SGTVT" and stats.movements[-2].change == -14
    # 2024 has no year before it to compare with: asking for it shows 2025
    assert stats.comparable_years == (2025,)
    assert statistics.statistics(two_years, person(two_years, "dic"), NOW, movement_year=2024).movement_year == 2025


def test_late_and_pending_reports_against_the_deadline(two_years):
    two_years.execute(update(Report).where(Report.unit_code == "VPUB")
                      .values(submitted_at=datetime(2025, 12, 15, 17, 0, tzinfo=UTC)))  # 16/12 00:00 local
    two_years.execute(update(Report).where(Report.unit_code == "STC")
                      .values(submitted_at=datetime(2025, 12, 15, 16, 59, tzinfo=UTC)))  # 15/12 23:59 local
    [row] = statistics.reports_per_year(two_years, NOW)
    assert (row.on_time, row.late, row.missing) == (26, 1, 1)
    [early] = statistics.reports_per_year(two_years, datetime(2025, 12, 1, tzinfo=UTC))
    assert (early.missing, early.pending) == (0, 1)
