import datetime as dt

import pytest

from workflows.engine.feel import FeelError, describe, evaluate_output, parse_output_literal, parse_unary_tests


def matches(cell, value, context=None):
    return parse_unary_tests(cell).matches(value, context or {})


# --- input cells ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", [None, "", "   ", "-", " - "])
def test_empty_cell_and_dash_match_anything(cell):
    for value in (None, 0, "A", [1], dt.date(2024, 1, 1)):
        assert matches(cell, value)


def test_string_literal_matches_equal_text_only():
    assert matches('"A"', "A")
    assert not matches('"A"', "B")
    assert not matches('"A"', None)


def test_string_list_matches_any_of_its_values():
    assert matches('"A","B"', "A")
    assert matches('"A", "B"', "B")
    assert not matches('"A","B"', "C")


def test_commas_inside_strings_do_not_split():
    assert matches('"a,b", "c"', "a,b")
    assert not matches('"a,b", "c"', "a")


def test_escaped_quotes_inside_strings_are_read():
    assert matches(r'"say \"hi\""', 'say "hi"')


def test_negation_matches_values_outside_the_list():
    assert not matches('not("A")', "A")
    assert matches('not("A")', "B")
    assert matches('not( "A", "B" )', "C")
    assert not matches('not("A", "B")', "B")


def test_negation_is_plain_negation_so_it_matches_null():
    assert matches('not("A")', None)


def test_comparisons_match_numbers():
    assert matches(">= 10", 10)
    assert matches(">= 10", 11.5)
    assert not matches(">= 10", 9)
    assert matches("> 10", 11) and not matches("> 10", 10)
    assert matches("< 10", 9) and not matches("< 10", 10)
    assert matches("<= 10", 10) and not matches("<= 10", 10.5)


def test_closed_interval_includes_both_ends():
    assert matches("[1..5]", 1)
    assert matches("[1..5]", 5)
    assert matches("[1..5]", 3.5)
    assert not matches("[1..5]", 0)
    assert not matches("[1..5]", 6)


def test_open_interval_excludes_both_ends():
    assert not matches("]1..5[", 1)
    assert not matches("]1..5[", 5)
    assert matches("]1..5[", 2)
    assert not matches("(1..5)", 1)
    assert matches("(1..5)", 4.9)


def test_half_open_intervals():
    assert matches("[1..5[", 1) and not matches("[1..5[", 5)
    assert not matches("]1..5]", 1) and matches("]1..5]", 5)
    assert matches("[1..5)", 1) and not matches("[1..5)", 5)
    assert not matches("(1..5]", 1) and matches("(1..5]", 5)


def test_negative_and_decimal_numbers():
    assert matches("-2.5", -2.5)
    assert matches("[-5..-1]", -3)
    assert not matches("[-5..-1]", 0)
    assert matches("> -1", 0)


def test_null_matches_only_none():
    assert matches("null", None)
    assert not matches("null", 0)
    assert not matches("null", "")


def test_booleans_match_booleans_not_numbers():
    assert matches("true", True)
    assert not matches("true", 1)
    assert matches("false", False)
    assert not matches("false", 0)
    assert not matches("false", None)


def test_dates_match_dates():
    assert matches('date("2024-01-01")', dt.date(2024, 1, 1))
    assert matches('[date("2024-01-01")..date("2024-12-31")]', dt.date(2024, 6, 1))
    assert not matches('< date("2024-01-01")', dt.date(2024, 6, 1))
    assert not matches('< date("2024-01-01")', "2023-01-01")


def test_numbers_never_match_strings():
    assert not matches("5", "5")
    assert not matches('"5"', 5)
    assert not matches(">= 10", "20")
    assert not matches("[1..5]", "3")


def test_comparisons_with_null_are_false_not_errors():
    assert not matches(">= 10", None)
    assert not matches("[1..5]", None)
    assert not matches("5", None)


def test_names_are_read_from_the_context():
    assert matches("limit", 5, {"limit": 5})
    assert matches("> limit", 6, {"limit": 5})
    assert matches("[low..unit.cap]", 7, {"low": 1, "unit": {"cap": 10}})
    assert not matches("[low..unit.cap]", 11, {"low": 1, "unit": {"cap": 10}})
    assert not matches("unit.missing", 1, {"unit": {}})


def test_unknown_name_in_a_cell_is_an_error():
    with pytest.raises(FeelError, match="limit"):
        matches("> limit", 6, {})


def test_mixed_test_lists_match_any_test():
    cell = "< 0, [10..20], 99"
    assert matches(cell, -1) and matches(cell, 15) and matches(cell, 99)
    assert not matches(cell, 5)


def test_parsed_cells_are_cached():
    assert parse_unary_tests("[1..5]") is parse_unary_tests("[1..5]")


@pytest.mark.parametrize("cell, hint", [
    ("!= 5", "not("),
    ("= 5", "value alone"),
    ("'A'", "double quotes"),
    ('"A', "closing quote"),
    ("? in [1, 2]", "'?'"),
    ("? > 3 and ? < 9", "'?'"),
    ("x ====", "=="),
    ("__import__('os')", "__import__"),
    ("_secret", "_secret"),
    ("[1..5", "end"),
    ("[1, 5]", ".."),
    ("[1..5}", "unexpected character"),
    ("not(1", "')'"),
    ("1 2", "commas"),
    ('date("yesterday")', "date"),
    ("len(x)", "len"),
    ("5, not(4)", "not("),
    ("a,", "end"),
    (">", "end"),
])
def test_invalid_cells_raise_feel_error_with_a_hint(cell, hint):
    with pytest.raises(FeelError) as info:
        parse_unary_tests(cell)
    message = str(info.value)
    assert message.startswith(f"Cannot read cell '{cell.strip()}'")
    assert hint in message


def test_feel_error_is_a_value_error():
    assert issubclass(FeelError, ValueError)


@pytest.mark.parametrize("cell, text", [
    ("-", "any value"),
    ("[1..5]", "in [1..5]"),
    ("]1..5[", "in ]1..5["),
    (">= 10", ">= 10"),
    ('"A"', '= "A"'),
    ('"A","B"', 'one of "A", "B"'),
    ('not("A")', 'not (= "A")'),
    ("null", "is null"),
    ("< 0, [10..20]", "< 0 or in [10..20]"),
    ('date("2024-01-01")', '= date("2024-01-01")'),
    ("unit.rank", "= unit.rank"),
])
def test_describe_gives_a_short_phrase(cell, text):
    assert describe(cell) == text
    assert describe(parse_unary_tests(cell)) == text


# --- output entries ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ('"approve"', "approve"),
    ("42", 42),
    ("-1.5", -1.5),
    ("true", True),
    ("false", False),
    ("null", None),
    ("", None),
    (None, None),
    ('["A", "B"]', ["A", "B"]),
    ("[]", []),
    ('[1, ["x", null]]', [1, ["x", None]]),
])
def test_output_literals_are_read_directly(text, value):
    assert parse_output_literal(text) == value
    assert evaluate_output(text, {}) == value


def test_output_list_literals_are_fresh_copies():
    first = parse_output_literal('["A"]')
    first.append("changed")
    assert parse_output_literal('["A"]') == ["A"]


def test_output_expressions_are_evaluated_with_the_context():
    assert evaluate_output("amount * 2", {"amount": 3}) == 6
    assert evaluate_output("status = \"done\"", {"status": "done"}) is True
    assert evaluate_output("[level, \"B\"]", {"level": "A"}) == ["A", "B"]
    compute = parse_output_literal("unit.rank + 1")
    assert callable(compute)
    assert compute({"unit": {"rank": 2}}) == 3


def test_output_expressions_may_call_caller_functions():
    functions = {"today": lambda: dt.date(2024, 5, 1)}
    assert evaluate_output("today()", {}, functions) == dt.date(2024, 5, 1)
    with pytest.raises(FeelError, match="today"):
        parse_output_literal("today()")


def test_hostile_output_expressions_are_rejected_before_running(tmp_path):
    target = tmp_path / "pwned"
    for text in [f"__import__('os').system('touch {target}')", f"open('{target}', 'w')"]:
        with pytest.raises(FeelError, match="Cannot read output"):
            parse_output_literal(text)
        with pytest.raises(FeelError):
            evaluate_output(text, {})
    assert not target.exists()


def test_output_evaluation_errors_become_feel_errors():
    with pytest.raises(FeelError, match="Unknown variable 'amount'"):
        evaluate_output("amount * 2", {})
