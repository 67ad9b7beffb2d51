import datetime as dt
import timeit

import pytest

from workflows.engine.expressions import ExpressionError, check, evaluate, to_python

# --- JUEL (Camunda 7) ------------------------------------------------------------------------------------------


def test_juel_wrapper_is_stripped():
    assert to_python("${approved}") == "approved"
    assert to_python("#{approved}") == "approved"
    assert evaluate("${approved}", {"approved": True}) is True


def test_juel_comparison_works():
    assert evaluate("${amount > 1000}", {"amount": 1500}) is True
    assert evaluate("${amount > 1000}", {"amount": 500}) is False


def test_juel_not_operator_is_translated():
    assert to_python("${!approved}") == "(not approved)"
    assert evaluate("${!approved}", {"approved": False}) is True


def test_juel_not_binds_tighter_than_equality():
    assert to_python("${!a == b}") == "(not a) == b"
    assert evaluate("${!a == b}", {"a": True, "b": False}) is True


def test_juel_not_equal_is_kept():
    assert to_python("${a != b}") == "a != b"
    assert evaluate("${a != b}", {"a": 1, "b": 2}) is True


def test_juel_and_operator_is_translated():
    assert to_python("${a && b}") == "a and b"
    assert evaluate("${a && b}", {"a": True, "b": False}) is False
    assert evaluate("${a&&b}", {"a": True, "b": True}) is True


def test_juel_or_operator_is_translated():
    assert to_python("${a || b}") == "a or b"
    assert evaluate("${a || b}", {"a": False, "b": True}) is True


def test_juel_word_operators_are_translated():
    assert to_python("${x eq 'y'}") == "x == 'y'"
    assert evaluate("${x eq 'y'}", {"x": "y"}) is True
    variables = {"a": 1, "b": 2}
    for text, expected in [("a ne b", True), ("a lt b", True), ("a gt b", False), ("a le b", True),
                           ("a ge b", False), ("a lt b and not (a eq b)", True), ("a gt b or b eq 2", True)]:
        assert evaluate("${" + text + "}", variables) is expected, text


def test_juel_double_quoted_strings_work():
    assert evaluate('${head_decision == "approve"}', {"head_decision": "approve"}) is True
    assert evaluate('${head_decision == "approve"}', {"head_decision": "reject"}) is False


def test_juel_literals_are_translated():
    assert evaluate("${flag == true}", {"flag": True}) is True
    assert evaluate("${x == null}", {"x": None}) is True
    assert evaluate("${false}", {}) is False


def test_juel_empty_operator_is_translated():
    assert to_python("${empty items}") == "is_empty(items)"
    assert evaluate("${empty items}", {"items": []}) is True
    assert evaluate("${not empty unit.staff}", {"unit": {"staff": ["an"]}}) is True
    assert evaluate("${empty name}", {"name": None}) is True


def test_juel_ternary_is_translated():
    assert to_python("${a ? b : c}") == "(b if a else c)"
    assert evaluate("${urgent ? 'fast' : 'normal'}", {"urgent": True}) == "fast"


def test_juel_nested_ternary_keeps_the_right_grouping():
    text = "${a ? (b ? 1 : 2) : c ? 3 : 4}"
    assert evaluate(text, {"a": True, "b": False, "c": True}) == 2
    assert evaluate(text, {"a": False, "b": False, "c": False}) == 4
    assert evaluate("${a ? b ? 1 : 2 : 3}", {"a": True, "b": True}) == 1
    assert evaluate("${count(x ? [1, 2] : [1])}", {"x": True}) == 2


def test_juel_ternary_without_colon_is_rejected():
    with pytest.raises(ExpressionError, match="'\\?'"):
        evaluate("${a ? b}", {"a": 1, "b": 2})


def test_strings_containing_operators_are_untouched():
    assert to_python("${note == 'a && b || !c'}") == "note == 'a && b || !c'"
    assert evaluate('${note == "yes && no"}', {"note": "yes && no"}) is True
    assert evaluate("${note != '!important'}", {"note": "!important"}) is False
    assert to_python("a = 'x = y'", "feel") == "a == 'x = y'"
    assert to_python('s == "true eq null"', "auto") == 's == "true eq null"'


def test_juel_keywords_after_a_dot_are_field_names():
    assert evaluate("${unit.empty}", {"unit": {"empty": 3}}) == 3


# --- FEEL and auto ----------------------------------------------------------------------------------------------


def test_feel_single_equals_is_equality():
    assert to_python("a = 1", "feel") == "a == 1"
    assert evaluate("status = \"done\"", {"status": "done"}, dialect="feel") is True


def test_feel_translation_leaves_other_operators_alone():
    assert to_python("a <= 1 and b >= 2 and c != 3 and d == 4", "feel") == "a <= 1 and b >= 2 and c != 3 and d == 4"


def test_feel_not_function_negates():
    assert to_python("not(approved)", "feel") == "is_not(approved)"
    assert evaluate("not(approved)", {"approved": False}, dialect="feel") is True
    assert evaluate("not(approved)", {"approved": None}, dialect="feel") is None


def test_feel_translation_only_applies_to_the_feel_dialect():
    with pytest.raises(ExpressionError):
        evaluate("a = 1", {"a": 1})


def test_auto_dialect_accepts_true_false_null():
    assert evaluate("x == null or flag == true", {"x": None, "flag": False}) is True
    assert evaluate("false", {}) is False


def test_python_dialect_is_taken_as_is():
    assert to_python(" a if b else c ", "python") == "a if b else c"
    with pytest.raises(ExpressionError, match="Unknown variable 'true'"):
        evaluate("true", {}, dialect="python")


def test_unknown_dialect_is_rejected():
    with pytest.raises(ExpressionError, match="dialect"):
        to_python("1", "cobol")


# --- semantics --------------------------------------------------------------------------------------------------


def test_unknown_variable_is_reported_by_name():
    with pytest.raises(ExpressionError, match="Unknown variable 'x'") as info:
        evaluate("x > 1", {})
    assert info.value.expression == "x > 1"


def test_expression_error_is_a_value_error_not_a_syntax_error():
    with pytest.raises(ExpressionError) as info:
        evaluate("1 +", {})
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, SyntaxError)


def test_arithmetic_with_null_gives_null():
    assert evaluate("x + 1", {"x": None}) is None
    assert evaluate("x * 2 - 1", {"x": None}) is None
    assert evaluate("-x", {"x": None}) is None


def test_ordering_with_null_gives_null_but_equality_works():
    assert evaluate("x > 1", {"x": None}) is None
    assert evaluate("1 <= x", {"x": None}) is None
    assert evaluate("x == None", {"x": None}) is True
    assert evaluate("x != None", {"x": None}) is False
    assert evaluate("x is None", {"x": None}) is True


def test_and_or_not_use_three_valued_logic():
    values = {"u": None, "t": True, "f": False}
    assert evaluate("u and f", values) is False
    assert evaluate("f and u", values) is False
    assert evaluate("u and t", values) is None
    assert evaluate("u or t", values) is True
    assert evaluate("u or f", values) is None
    assert evaluate("not u", values) is None
    assert evaluate("x > 1 and f", {"x": None, "f": False}) is False


def test_and_short_circuits_so_guards_work():
    assert evaluate("unit != None and unit.rank > 2", {"unit": None}) is False


def test_dotted_path_reads_dict_keys():
    assert evaluate("unit.rank", {"unit": {"rank": 3}}) == 3
    assert evaluate("unit.parent.name", {"unit": {"parent": {"name": "Sở"}}}) == "Sở"
    assert evaluate("unit.missing", {"unit": {}}) is None
    assert evaluate("unit.parent.name", {"unit": {"parent": None}}) is None


def test_dotted_path_on_a_non_dict_is_an_error():
    with pytest.raises(ExpressionError, match="rank"):
        evaluate("name.rank", {"name": "abc"})


def test_subscripts_read_lists_and_dicts():
    values = {"items": [10, 20], "d": {"k": 1}, "key": "k"}
    assert evaluate("items[0] + items[-1]", values) == 30
    assert evaluate("d['k'] + d[key]", values) == 2
    assert evaluate("items[5]", values) is None
    assert evaluate("d['nope']", values) is None


def test_arithmetic_and_collections_work():
    assert evaluate("(a + b) * 2 // 3 % 5 - 1 / 2", {"a": 2, "b": 4}) == 4 - 0.5
    assert evaluate("'x' in tags and 'y' not in tags", {"tags": ["x"]}) is True
    assert evaluate("{'a': 1, 'b': [1, 2]}['b']", {}) == [1, 2]
    assert evaluate("(1, 2) == (1, 2) and {1, 2} == {2, 1}", {}) is True
    assert evaluate("'yes' if n >= 1 else 'no'", {"n": 0}) == "no"
    assert evaluate("1 < x < 3", {"x": 2}) is True


def test_builtin_functions_work():
    values = {"xs": [3, 1, 2], "empty": [], "d": "2024-03-01", "n": None}
    assert evaluate("count(xs) == len(xs) == 3", values) is True
    assert evaluate("min(xs) + max(4, 5) + sum(xs)", values) == 1 + 5 + 6
    assert evaluate("min(xs[0], n)", values) is None
    assert evaluate("max(empty)", values) is None
    assert evaluate("floor(2.7) + ceiling(2.1) + abs(-1) + round(2.456, 2)", values) == 2 + 3 + 1 + 2.46
    assert evaluate("is_empty(empty) and not is_empty(xs)", values) is True
    assert evaluate("contains(xs, 2) and contains('abc', 'b')", values) is True
    assert evaluate("str(5) + str(int('7')) + str(float(1))", values) == "571.0"
    assert evaluate("date(d)", values) == dt.date(2024, 3, 1)
    assert evaluate("date(d) < date('2024-04-01')", values) is True
    assert evaluate("date(d).month", values) == 3


def test_caller_functions_are_callable():
    today = dt.date(2024, 5, 1)
    assert evaluate("due < today()", {"due": dt.date(2024, 4, 1)}, functions={"today": lambda: today}) is True


def test_today_is_not_built_in():
    with pytest.raises(ExpressionError, match="today"):
        evaluate("today()", {})


def test_errors_in_functions_become_expression_errors():
    with pytest.raises(ExpressionError, match="date"):
        evaluate("date('not a date')", {})
    with pytest.raises(ExpressionError, match="Division by zero"):
        evaluate("1 / x", {"x": 0})
    with pytest.raises(ExpressionError, match="compare"):
        evaluate("x > 1", {"x": "abc"})


def test_check_accepts_known_names_and_functions():
    check("${amount > limit && approved}", allowed_names={"amount", "limit", "approved"})
    check("due < today()", functions={"today"})
    with pytest.raises(ExpressionError, match="Unknown variable 'amout'"):
        check("amout > 1", allowed_names={"amount"})


def test_repeated_evaluation_is_cheap():
    evaluate("amount > 1000", {"amount": 5})
    seconds = timeit.timeit(lambda: evaluate("amount > 1000", {"amount": 5}), number=2000) / 2000
    assert seconds < 20e-6


# --- hostile input ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("source, named", [
    ("__import__('os')", "__import__"),
    ("import os", "import"),
    ("().__class__.__base__.__subclasses__()", "__subclasses__"),
    ("x.__class__", "__class__"),
    ("open('/etc/passwd')", "open"),
    ("eval('1')", "eval"),
    ("exec('1')", "exec"),
    ("lambda: 1", "lambda"),
    ("[x for x in items]", "comprehension"),
    ("(x := 1)", ":="),
    ("f'{x}'", "f-string"),
    ("items.append(1)", "items.append"),
    ("count(*items)", "starred"),
    ("round(x, ndigits=2)", "Keyword"),
    ("2 ** 1000000", "**"),
    ("'a' * 10**9", "**"),
    ("items[1:2]", "1:2"),
    ("x is 1", "is"),
    ("x = 1", "assignment"),
    ("{**d}", "**"),
    ("b'bytes'", "b'bytes'"),
    ("${x ? __import__('os') : 1}", "__import__"),
])
def test_hostile_expressions_are_rejected_naming_the_culprit(source, named):
    with pytest.raises(ExpressionError) as info:
        check(source)
    assert named in info.value.message


def test_huge_string_repetition_is_rejected():
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("'a' * 1000000000", {})
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("[[[[0] * 99] * 99] * 99] * 99", {})


def test_huge_numbers_are_rejected():
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("1" + "0" * 101, {})
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("x * x * x", {"x": 10**50})
    with pytest.raises(ExpressionError, match="round"):
        evaluate("round(1, -1000000000)", {})


def test_string_formatting_is_rejected():
    with pytest.raises(ExpressionError, match="numbers only"):
        evaluate("'%0999999d' % 1", {})


def test_deep_nesting_is_rejected():
    with pytest.raises(ExpressionError, match="nested"):
        check("-" * 60 + "1")
    with pytest.raises(ExpressionError, match="nested"):
        check("[" * 60 + "]" * 60)
    with pytest.raises(ExpressionError):
        check("(" * 300 + "1" + ")" * 300)
    with pytest.raises(ExpressionError):
        check("not " * 2400 + "x")


def test_overlong_source_is_rejected():
    with pytest.raises(ExpressionError, match="longer than"):
        check("1 + " * 3000 + "1")


def test_hostile_expressions_do_not_run(tmp_path):
    target = tmp_path / "pwned"
    hostile = [
        f"__import__('os').system('touch {target}')",
        f"open('{target}', 'w')",
        f"().__class__.__base__.__subclasses__()[0]('{target}')",
        f"${{__import__('pathlib').Path('{target}').touch()}}",
        f"eval(\"open('{target}', 'w')\")",
    ]
    for source in hostile:
        with pytest.raises(ExpressionError):
            evaluate(source, {"x": 1}, functions={})
    assert not target.exists()


@pytest.mark.parametrize("source", [
    "${" + "!" * 5000 + "x}",
    "${" + "(" * 3000 + "x" + ")" * 3000 + "}",
    "${" + "a ? b : " * 1200 + "c}",
    "${" + "not " * 2400 + "x}",
])
def test_deep_juel_nesting_is_rejected_quickly(source):
    seconds = timeit.timeit(lambda: pytest.raises(ExpressionError, check, source), number=1)
    assert seconds < 0.5
