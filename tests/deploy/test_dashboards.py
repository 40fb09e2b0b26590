"""The dashboards as code: the committed JSON is what app.dashboards generates, every PromQL
expression (dashboards and rules, the chart's rendered PrometheusRule too) parses in promtool,
the cost dashboard overlays mitigations on every graph, and the chart ships the dashboards as
ConfigMaps for the Grafana sidecar only when asked to (rendered by a real helm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from app import dashboards
from tests.support.dashboards import DASHBOARDS, all_dashboard_queries, metric_names, rule_queries
from tests.support.procs import ROOT
from tests.support.tools import run, tool

CHART = ROOT / "helm" / "autonomic"


def test_committed_dashboards_are_what_the_code_generates(tmp_path: Path) -> None:
    assert sorted(p.stem for p in DASHBOARDS.glob("*.json")) == sorted(dashboards.DASHBOARDS)
    for name in dashboards.DASHBOARDS:
        committed = (DASHBOARDS / f"{name}.json").read_text()
        assert committed == dashboards.render(name), f"{name}.json is stale: run python -m app.dashboards"
    assert dashboards.main(["--check"]) == 0
    # The command writes the same files; --check notices a hand edit.
    assert dashboards.main([str(tmp_path)]) == 0
    assert {p.name for p in tmp_path.iterdir()} == {f"{n}.json" for n in dashboards.DASHBOARDS}
    (tmp_path / "autonomic.json").write_text("{}")
    assert dashboards.main(["--check", str(tmp_path)]) == 1


def test_every_expression_parses_in_promtool(tmp_path: Path) -> None:
    queries = all_dashboard_queries()
    assert len(queries) > 40
    rules = {
        "groups": [
            {"name": "dashboards", "rules": [{"record": f"dashboard:query:{i}", "expr": expr}
                                             for i, (_, expr) in enumerate(queries)]}
        ]
    }  # fmt: skip
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump(rules))
    checked = run("promtool", "check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(queries)} rules found" in checked.stdout


def test_every_metric_is_one_autonomic_serves_or_documents() -> None:
    """Names are checked against a live /metrics in tests/integration/test_metrics.py; here, that
    each belongs to one of the three families at all (a typo would fail both)."""
    for where, expr in all_dashboard_queries() + rule_queries():
        for name in metric_names(expr):
            assert name.startswith(("autonomic_", "ai_", "llm_")) or name == "up", f"{where}: {name}"


def test_the_cost_dashboard_overlays_mitigations_on_every_graph() -> None:
    board = json.loads((DASHBOARDS / "ai-cost.json").read_text())
    overlays = [a for a in board["annotations"]["list"] if "autonomic_mitigation_active" in a.get("expr", "")]
    flags = {a["expr"].split('flag="')[1].split('"')[0] for a in overlays}
    assert flags == {"llm.model_tier", "cache.mode", "ratelimit.factor", "llm.fallback.enabled"}
    covered = {pid for a in overlays for pid in a["filter"]["ids"]}
    graphs = {p["id"] for p in board["panels"] if p["type"] == "timeseries"}  # stats show no regions
    assert graphs <= covered, f"panels without a mitigation overlay: {graphs - covered}"
    autonomic = json.loads((DASHBOARDS / "autonomic.json").read_text())
    timelines = [p for p in autonomic["panels"] if p["type"] == "state-timeline"]
    assert any("autonomic_mitigation_active" in t["targets"][0]["expr"] for t in timelines)


def render_chart(*sets: str) -> list[dict[str, Any]]:
    args = [item for s in sets for item in ("--set", s)]
    rendered = run(tool("helm"), "template", "rel", str(CHART), *args)
    assert rendered.returncode == 0, rendered.stderr
    return [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]


def test_chart_ships_dashboards_for_the_grafana_sidecar_only_when_enabled() -> None:
    assert not [
        d for d in render_chart() if d["kind"] == "ConfigMap" and "dashboard" in d["metadata"]["name"]
    ]
    maps = [
        d for d in render_chart("grafanaDashboards.enabled=true") if "-dashboard-" in d["metadata"]["name"]
    ]
    assert {m["metadata"]["name"] for m in maps} == {
        f"rel-autonomic-dashboard-{n}" for n in dashboards.DASHBOARDS
    }
    for cm in maps:
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert cm["metadata"]["annotations"] == {"grafana_folder": "Autonomic"}
        ((key, text),) = cm["data"].items()
        assert json.loads(text) == json.loads((DASHBOARDS / key).read_text())
    custom = render_chart(
        "grafanaDashboards.enabled=true",
        "grafanaDashboards.label=my_dashboards",
        "grafanaDashboards.labelValue=yes",
        "grafanaDashboards.folder=SRE",
        "grafanaDashboards.namespace=monitoring",
    )
    cm = next(d for d in custom if "-dashboard-" in d["metadata"]["name"])
    assert cm["metadata"]["labels"]["my_dashboards"] == "yes"
    assert "grafana_dashboard" not in cm["metadata"]["labels"]
    assert cm["metadata"]["annotations"] == {"grafana_folder": "SRE"}
    assert cm["metadata"]["namespace"] == "monitoring"


@pytest.mark.parametrize(("held", "paused"), [("6h", "1h"), ("90m", "15m")])
def test_prometheus_rule_carries_both_groups_and_the_configured_bounds(
    tmp_path: Path, held: str, paused: str
) -> None:
    docs = render_chart(
        "prometheusRule.enabled=true",
        f"prometheusRule.autonomic.mitigationHeldFor={held}",
        f"prometheusRule.autonomic.pausedFor={paused}",
    )
    (rule,) = [d for d in docs if d["kind"] == "PrometheusRule"]
    groups = {g["name"]: {r.get("alert"): r for r in g["rules"]} for g in rule["spec"]["groups"]}
    assert "autonomic.rules" in groups and "ai-cost" in groups
    assert groups["autonomic.rules"]["AutonomicMitigationHeldTooLong"]["for"] == held
    assert groups["autonomic.rules"]["AutonomicPausedTooLong"]["for"] == paused
    assert groups == {
        g["name"]: {r.get("alert"): r for r in g["rules"]}
        for g in yaml.safe_load((CHART / "files" / "alert-rules.yml").read_text())["groups"]
    } | {"autonomic.rules": groups["autonomic.rules"]}  # nothing else changed
    path = tmp_path / "rendered-rules.yml"
    path.write_text(yaml.safe_dump(rule["spec"]))
    checked = run("promtool", "check", "rules", str(path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
