import pytest

from app.matchers import matches, parse


def ok(expr: str, labels: dict[str, str]) -> bool:
    return matches(parse(expr), labels)


def test_equality_and_and() -> None:
    assert ok(
        'alertname="CostSpike", severity="critical"', {"alertname": "CostSpike", "severity": "critical"}
    )
    assert not ok(
        'alertname="CostSpike", severity="critical"', {"alertname": "CostSpike", "severity": "warning"}
    )


def test_not_equal_and_missing_label_is_empty() -> None:
    assert ok('team!="ml"', {})
    assert ok('team=""', {"alertname": "X"})
    assert not ok('team!=""', {})


def test_regex_is_fully_anchored() -> None:
    assert ok('severity=~"warn|crit"', {"severity": "crit"})
    assert not ok('severity=~"warn|crit"', {"severity": "critical"})
    assert ok('severity=~"crit.*"', {"severity": "critical"})
    assert ok('env!~"dev|test"', {"env": "prod"})
    assert not ok('env!~"dev|test"', {"env": "dev"})


def test_braces_unquoted_values_and_trailing_comma() -> None:
    assert ok("{alertname=CostSpike, severity=~warn.*,}", {"alertname": "CostSpike", "severity": "warning"})


def test_escapes_in_quoted_values() -> None:
    assert ok(r'msg="say \"hi\"\n"', {"msg": 'say "hi"\n'})
    assert ok(r'path="a\\b"', {"path": "a\\b"})


def test_value_may_contain_commas_when_quoted() -> None:
    assert ok('alertname="a,b", x="1"', {"alertname": "a,b", "x": "1"})


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "empty matcher"),
        ("{}", "empty matcher"),
        ("alertname", "expected 'label op value'"),
        ('severity=~"("', "bad regex"),
        ('a="1" b="2"', "expected ','"),
        ('{a="1"', "unclosed"),
        ("1abc=x", "expected 'label op value'"),
    ],
)
def test_errors_say_what_is_wrong(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse(expr)


def test_str_round_trips() -> None:
    parsed = parse(r'a="x\"y", b=~"z.*"')
    assert parse(", ".join(str(m) for m in parsed)) == parsed
