"""Issue 9 at the edges: a late opening and earlier years' ranks through the CLI, the API and the page."""
from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from workflows import demo
from workflows.models import Cycle, Evaluation


def test_cli_refuses_a_past_deadline_unless_the_late_opening_is_confirmed(runner, app):
    with app.app_context():
        demo._ensure_people(db.session, ["STC"])
        db.session.commit()
    result = runner.invoke(args=["cycle", "open", "--year", "2024"])
    assert result.exit_code == 2 and "report_due" in result.output
    result = runner.invoke(args=["cycle", "open", "--year", "2024", "--confirm-late"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Cycle.year)) == 2024


def test_cli_imports_earlier_ranks_all_or_nothing_naming_each_bad_line(runner, app, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_code,rank,units\nSTC,3,20\nXYZ,1,20\nSNV,0,20\n", encoding="utf-8")
    result = runner.invoke(args=["ranks", "import", "--year", "2023", str(bad)])
    assert result.exit_code == 2 and "line 3" in result.output and "line 4" in result.output
    with app.app_context():
        assert db.session.scalars(select(Evaluation)).all() == []  # nothing of the good line was kept
    good = tmp_path / "good.csv"
    good.write_text("unit_code,rank,units\nSTC,3,20\nSNV,4,20\n", encoding="utf-8")
    result = runner.invoke(args=["ranks", "import", "--year", "2023", str(good)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert {e.unit_code: e.ict_rank for e in db.session.scalars(select(Evaluation))} == {"STC": 3, "SNV": 4}
