"""How records read: relative and ISO times, durations with units, JSON, holders by name."""

from __future__ import annotations

from app.actions.lease_origins import LeaseOrigin
from app.web import readable


def test_times_read_as_iso_and_relative() -> None:
    assert readable.iso(1795774741.366) == "2026-11-27T10:19:01Z"
    assert readable.iso(None) == "-"
    assert readable.ago(1000.0 + 3540, now=1000.0) == "in 59 min"
    assert readable.ago(1000.0, now=1000.0 + 185) == "3 min ago"
    assert readable.ago(1000.0, now=1000.0 + 7500) == "2 h 5 min ago"
    assert readable.ago(1000.0, now=1000.2) == "just now"


def test_durations_carry_units() -> None:
    assert readable.duration_ms(0.42) == "0.4 ms"
    assert readable.duration_ms(12.3) == "12 ms"
    assert readable.duration_ms(1250) == "1.25 s"
    assert readable.duration_ms(125_000) == "2 min"


def test_json_is_indented_with_null() -> None:
    assert readable.pretty({"b": None, "a": 1}) == '{\n  "a": 1,\n  "b": null\n}'


def test_alert_holder_is_named_with_key_labels_and_links() -> None:
    origin = LeaseOrigin(
        execution_id="ex-1",
        playbook="cost_spike",
        source="alertmanager",
        alertname="CostSpike",
        labels={"alertname": "CostSpike", "team": "llm", "severity": "critical", "zone": "a", "x": "y"},
        generator_url="http://prom:9090/graph?g0.expr=up",
        external_url="http://am.example:9093",
    )
    holder = readable.holder_of("alert:abc", origin)
    assert holder.label == "CostSpike · severity=critical · team=llm · x=y"
    assert holder.execution_id == "ex-1"
    assert holder.generator_url == "http://prom:9090/graph?g0.expr=up"
    assert holder.alertmanager_url and holder.alertmanager_url.startswith("http://am.example:9093/#/alerts?")
    # ALERTMANAGER_URLS wins over the webhook's externalURL.
    configured = readable.holder_of("alert:abc", origin, ["http://am-0:9093/"])
    assert configured.alertmanager_url and configured.alertmanager_url.startswith("http://am-0:9093/#/")


def test_links_from_alert_data_are_only_http() -> None:
    origin = LeaseOrigin(
        execution_id="ex-1",
        playbook="p",
        source="alertmanager",
        alertname="A",
        generator_url="javascript:alert(1)",
        external_url="javascript:alert(2)",
    )
    holder = readable.holder_of("alert:abc", origin)
    assert holder.generator_url is None and holder.alertmanager_url is None


def test_operator_holder_shows_name_and_reason_and_unknown_stays_raw() -> None:
    origin = LeaseOrigin(execution_id="ex-2", playbook="p", source="manual", actor="dana", reason="load test")
    assert readable.holder_of("operator:dana", origin).label == "operator dana: load test"
    assert readable.holder_of("operator", None).label == "operator"
    assert readable.holder_of("alert:zzz", None).label == "alert:zzz"


def test_alertmanager_filter_escapes_quotes() -> None:
    link = readable.alertmanager_link("http://am", {"alertname": 'Say "hi"'})
    assert "%5C%22hi%5C%22" in link
