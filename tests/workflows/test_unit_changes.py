"""Issue 9.9: units as effective-dated records with successors; 2025's known changes; DIC and last year's rank."""
from __future__ import annotations

from datetime import date

import pytest
from factories import at, open_task, setup_people, submit_report
from sqlalchemy import select

from workflows import cycles, results, tasks, unit_changes
from workflows.errors import InvalidInput
from workflows.models import UnitChange, UnitHistory
from workflows.units import dic_of_year, load_units, units_of_year

GONE_IN_2025 = {"SKHDT", "SNNPTNT", "STNMT", "SGTVT", "STTTT", "SLDTBXH", *unit_changes.DISTRICTS}


def test_the_brief_s_2025_changes_load_once_with_their_sources(session):
    load_units(session)
    assert unit_changes.load_known_changes(session) == len(unit_changes.KNOWN_CHANGES_2025)
    assert unit_changes.load_known_changes(session) == 0  # idempotent
    assert len(units_of_year(session, 2024)) == 28  # the years before are as they were
    units_2025 = {u.code: u for u in units_of_year(session, 2025)}
    assert not GONE_IN_2025 & set(units_2025)
    assert units_2025["SNNMT"].name_vi == "Sở Nông nghiệp và Môi trường"
    assert {"STC", "SXD", "SKHCN", "SNV"} <= set(units_2025)
    assert dic_of_year(session, 2024) == "STTTT" and dic_of_year(session, 2025) == "SKHCN"
    closed = session.scalar(select(UnitHistory).where(UnitHistory.code == "SKHDT", UnitHistory.valid_to.is_not(None)))
    assert closed.successor_code == "STC" and closed.valid_to == date(2025, 2, 28)
    assert all("docs/RULES.md" in c.document for c in session.scalars(select(UnitChange)))
    # the districts end on 30/06/2025 with no successor: the merged province's units are for the admin to enter
    bni = session.scalar(select(UnitHistory).where(UnitHistory.code == "BNI").order_by(UnitHistory.valid_from.desc()))
    assert bni.valid_to == date(2025, 6, 30) and bni.successor_code is None


def test_last_years_rank_follows_a_unit_only_where_its_history_is_its_own(session):
    load_units(session)
    results.import_prior_ranks(session, 2024, "unit_code,rank,units\nSTC,3,20\nSKHDT,4,20\nSYT,5,20\nSTNMT,6,20\n")
    unit_changes.load_known_changes(session)
    prior = unit_changes.prior_ranks_for(session, 2025)
    assert prior == {"SYT": (5, 20)}  # STC absorbed SKHDT, SNNMT is new: MISSING_INPUT:prev_ict_rank for them


def test_the_admin_renames_and_dissolves_with_a_date_and_a_document(session):
    load_units(session)
    with pytest.raises(InvalidInput) as error:
        unit_changes.rename(session, "STP", date(2026, 1, 1), "Sở Tư pháp mới", "", " ")
    assert "document" in error.value.fields
    unit_changes.rename(session, "STP", date(2026, 1, 1), "Sở Tư pháp (tên mới)", "", "QĐ 1/QĐ-UBND 2025")
    assert {u.code: u.name_vi for u in units_of_year(session, 2026)}["STP"] == "Sở Tư pháp (tên mới)"
    assert {u.code: u.name_vi for u in units_of_year(session, 2025)}["STP"] == "Sở Tư pháp"
    unit_changes.dissolve(session, "DPTTH", date(2026, 1, 1), "QĐ 2/QĐ-UBND 2025")
    assert "DPTTH" not in {u.code for u in units_of_year(session, 2026)}
    with pytest.raises(InvalidInput):
        unit_changes.dissolve(session, "DPTTH", date(2027, 1, 1), "QĐ 3")  # no longer exists


def test_a_2025_cycle_uses_2025_s_units_and_its_dic(session):
    people = setup_people(session, ["SKHCN"])
    unit_changes.load_known_changes(session)
    session.commit()
    with pytest.raises(InvalidInput):  # Sở TT&TT no longer exists at the end of 2025
        cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], now=at(date(2025, 11, 2)),
                          unit_codes=["STTTT"])
    cycles.open_cycle(session, 2025, "2025-12-15", people["dic_leader"], now=at(date(2025, 11, 2)),
                      unit_codes=["SKHCN"])
    submit_report(session, people, "SKHCN")
    tasks.complete_task(session, open_task(session, "review_report", "SKHCN").id, people["dic"],
                        {"dic_decision": "accept"}, at(date(2025, 11, 11)))
    tasks.complete_task(session, open_task(session, "consolidate").id, people["dic"],
                        {"units": {"SKHCN": {"ict_rank": 1, "ict_units": 1, "slow_conclusions": False}}},
                        at(date(2026, 1, 5)))
    evaluation = session.scalar(select(results.Evaluation).where(results.Evaluation.unit_code == "SKHCN"))
    assert "CONFLICT_OF_INTEREST" in evaluation.reasons  # the DIC of 2025 is Sở KH&CN


def test_a_split_without_a_named_continuation_leaves_every_successor_without_last_years_rank(session):
    load_units(session)
    results.import_prior_ranks(session, 2025, "unit_code,rank,units\nSYT,2,20\nSTP,7,20\n")
    change = unit_changes.split(session, "SYT", [{"code": "SYT1", "name_vi": "Sở Y tế (phần 1)"},
                                                 {"code": "SYT2", "name_vi": "Sở Dân số"}],
                                date(2026, 4, 1), "NQ 5/NQ-HĐND 2026")
    assert change.kind == "split" and change.from_codes == ["SYT"] and change.to_codes == ["SYT1", "SYT2"]
    units_2026 = {u.code: u for u in units_of_year(session, 2026)}
    assert "SYT" not in units_2026 and units_2026["SYT2"].name_vi == "Sở Dân số"
    assert units_2026["SYT1"].block == units_2026["STP"].block  # the successors keep the split unit's block
    assert "SYT" in {u.code for u in units_of_year(session, 2025)}
    assert unit_changes.prior_ranks_for(session, 2026) == {"STP": (7, 20)}  # MISSING_INPUT:prev_ict_rank for both


def test_a_split_with_a_named_continuation_passes_the_rank_to_that_successor_only(session):
    load_units(session)
    results.import_prior_ranks(session, 2025, "unit_code,rank,units\nSYT,2,20\n")
    unit_changes.split(session, "SYT", [{"code": "SYT", "name_vi": "Sở Y tế"}, {"code": "SDS", "name_vi": "Sở Dân số"}],
                       date(2026, 4, 1), "NQ 5/NQ-HĐND 2026", continuation="SYT")
    assert unit_changes.prior_ranks_for(session, 2026) == {"SYT": (2, 20)}
    closed = session.scalar(select(UnitHistory).where(UnitHistory.code == "SYT", UnitHistory.valid_to.is_not(None)))
    assert closed.valid_to == date(2026, 3, 31) and closed.successor_code == "SYT"


def test_a_split_and_an_establishment_name_each_bad_field(session):
    load_units(session)
    with pytest.raises(InvalidInput) as error:
        unit_changes.split(session, "SYT", [{"code": "STP", "name_vi": "x"}, {"code": "a", "name_vi": ""}],
                           date(2026, 4, 1), "", continuation="ZZ")
    assert set(error.value.fields) == {"document", "successors[0].code", "successors[1].code",
                                       "successors[1].name_vi", "continuation"}
    with pytest.raises(InvalidInput) as error:
        unit_changes.split(session, "SYT", [{"code": "SYT1", "name_vi": "x"}], date(2026, 4, 1), "NQ 5")
    assert set(error.value.fields) == {"successors"}
    with pytest.raises(InvalidInput) as error:
        unit_changes.establish(session, "STP", "", "", None, date(2026, 1, 1), "QĐ 9")
    assert set(error.value.fields) == {"code", "name_vi", "block"}
    unit_changes.establish(session, "SVH2", "Sở Văn hóa mới", "", results.Block.DEPARTMENT, date(2026, 1, 1), "QĐ 9")
    assert "SVH2" in {u.code for u in units_of_year(session, 2026)}
    assert "SVH2" not in {u.code for u in units_of_year(session, 2025)}
