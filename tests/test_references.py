"""Code and docs point only inside the repository, and every pointer into docs/RULES.md names a section it has."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "docs" / "RULES.md"
# Written in pieces so that this file does not match itself. It reads nothing outside the repository, so it never
# needs to skip on a fresh clone.
OUTSIDE = ("DOMAIN" + ".md", "../" + "shared", "SPIFFWORKFLOW" + "-NOTES", "/work/" + "shared")
TEXT = (".py", ".md", ".html", ".bpmn", ".dmn", ".po", ".toml", ".cfg", ".ini", ".sh", ".txt", ".js", ".css")


def _tracked() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines() if name.endswith(TEXT) and (ROOT / name).is_file()]


def test_no_file_points_outside_the_repository():
    found = [f"{path.relative_to(ROOT)}: {word}" for path in _tracked()
             for word in OUTSIDE if word in path.read_text(encoding="utf-8", errors="replace")]
    assert found == []


def test_references_to_the_rules_name_sections_that_exist():
    rules = RULES.read_text(encoding="utf-8")
    headings = re.findall(r"^## (\d+)\. (.+)$", rules, re.MULTILINE)
    items = {*re.findall(r"^\| (A\d+) \|", rules, re.MULTILINE), *re.findall(r"^- (S\d+):", rules, re.MULTILINE)}
    numbers, names = {n for n, _ in headings}, {name for _, name in headings}
    assert {"Rank classes", "Rules R1–R9", "Reason codes", "Working-day calendar", "Ambiguities A1–A26"} <= names
    assert {f"A{i}" for i in range(1, 27)} <= items  # every ambiguity has its row
    wrong = []
    for path in _tracked():
        text = path.read_text(encoding="utf-8", errors="replace")
        wrong += [f"{path.relative_to(ROOT)}: §{n}" for n in re.findall(r"RULES\.md §(\d+)", text) if n not in numbers]
        wrong += [f"{path.relative_to(ROOT)}: {name}" for name in re.findall(r"RULES\.md, ([A-Z][\w–-]*(?: [\w–-]+)*)",
                                                                              text)
                  if name not in items and not any(h.startswith(name) or name.startswith(h) for h in names)]
    assert wrong == []
