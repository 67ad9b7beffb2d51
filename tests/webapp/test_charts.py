"""One SVG line chart and one bar cell for the statistics and the supervision pages (statistics/_charts.html)."""
from __future__ import annotations

import re

from webapp.supervise import charts


def _macros(app, name: str):
    return app.jinja_env.get_template(name).module


def test_the_supervision_chart_is_the_statistics_chart_inside_a_figure(app):
    chart = charts.line_chart([3, 1, 2], ["2023", "2024", "2025"], ceiling=20, inverted=True)
    with app.test_request_context():
        alone = str(_macros(app, "statistics/_charts.html").line_svg("c", "Thứ hạng", "Hạng 3, 1, 2", chart))
        figure = str(_macros(app, "supervise/_charts.html").line_chart(
            "c", "Thứ hạng", "Hạng 3, 1, 2", chart, ["Năm", "Hạng"], [["2023", 3]]))
    svg = re.search(r"<svg class=\"line-chart\".*?</svg>", figure, re.S).group(0)
    # The same drawing: both axes, the grid, three dots; the figure's caption names it instead of an SVG title.
    assert svg == alone.strip().replace('\n  <title id="c-title">Thứ hạng</title>', "\n  ")
    assert 'aria-labelledby="c-title c-desc"' in svg and '<figcaption id="c-title">' in figure
    assert len(re.findall(r'<line class="axis"', svg)) == 2 and len(re.findall(r"<circle ", svg)) == 3
    assert "<title" not in svg and "<title id=\"c-title\">Thứ hạng</title>" in alone


def test_a_bar_is_drawn_by_one_cell_in_both_pages(app):
    bar = charts.bar("Sở Tài chính", 3, "3 ngày", 6, "late")
    with app.test_request_context():
        cell = str(_macros(app, "statistics/_charts.html").bar_cell(bar)).strip()
        table = str(_macros(app, "supervise/_charts.html").bar_chart("b", "Chậm", None, "Cơ quan", "Ngày", [bar],
                                                                     "—"))
    assert cell.startswith('<td><svg class="bar late"') and '<rect class="fill" width="50.0"' in cell
    assert cell in table and '<span class="value">3 ngày</span>' in cell
