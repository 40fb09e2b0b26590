"""Grafana dashboards as code, built with the Grafana Foundation SDK; `python -m app.dashboards`
writes them to helm/autonomic/dashboards/*.json (the chart ships them as sidecar ConfigMaps).

Two dashboards: *Autonomic* (what the automation does: intake, queue, executions,
actions, mitigations, pause, leader, jobs, dead letters) and *AI cost and
mitigations* (the architecture guide's executive and cost-management views, with
the periods each relevant mitigation was on overlaid on every panel, so "the model
tier went to economy at 03:12" is visible on the cost graph that caused it).
Every value that every replica serves alike (the ai_* snapshot, the shared
state) is deduplicated with `max by (…)` before it is summed. The committed JSON
must equal what this module generates (tests/deploy/test_dashboards.py); the
SDK is the `dashboards` extra. Run with `--check` to compare instead of write.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

try:
    from grafana_foundation_sdk.builders import common as cb
    from grafana_foundation_sdk.builders import dashboard as db
    from grafana_foundation_sdk.builders import prometheus, stat, statetimeline, timeseries
    from grafana_foundation_sdk.cog import builder as cogbuilder
    from grafana_foundation_sdk.cog.encoder import JSONEncoder
    from grafana_foundation_sdk.models import common
    from grafana_foundation_sdk.models import dashboard as model
except ImportError:  # a development tool: the server itself never needs the SDK
    if __name__ != "__main__":
        raise
    print("error: the Grafana Foundation SDK is missing: pip install '.[dashboards]'", file=sys.stderr)
    sys.exit(2)

# The chart's folder in a checkout; an installed package has no chart, so DIR must be given there.
CHART = Path(__file__).resolve().parent.parent / "helm" / "autonomic"
OUT = CHART / "dashboards"
DS = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "$__rate_interval"
TAGS = ["autonomic"]
Panel = cogbuilder.Builder[model.Panel]


@dataclass(frozen=True)
class Mitigation:
    """A flag the built-in playbooks set, shown as a shaded region while any lease holds it."""

    flag: str
    title: str
    color: str


ECONOMY = Mitigation("llm.model_tier", "Economy model tier", "orange")
CACHE = Mitigation("cache.mode", "Aggressive caching", "blue")
RATE_LIMIT = Mitigation("ratelimit.factor", "Tighter rate limit", "purple")
FALLBACK = Mitigation("llm.fallback.enabled", "Fallback provider", "red")


class _Overlay(model.AnnotationQuery):
    """A Prometheus annotation query; Grafana merges consecutive points into one region."""

    def __init__(self, step: str, title_format: str, text_format: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.step, self.title_format, self.text_format = step, title_format, text_format

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload.update(step=self.step, titleFormat=self.title_format, textFormat=self.text_format)
        payload["useValueForTime"] = False
        return payload


class Overlay(cogbuilder.Builder[model.AnnotationQuery]):
    """Builds an `_Overlay` (the SDK's AnnotationQuery builder has no step or title format)."""

    def __init__(self, name: str, expr: str, color: str, text: str, panels: Sequence[int] = ()) -> None:
        self._model = _Overlay(
            "30s",
            name,
            text,
            name=name,
            datasource=DS,
            enable=True,
            icon_color=color,
            expr=expr,
            filter_val=model.AnnotationPanelFilter(exclude=False, ids=sorted(set(panels)))
            if panels
            else None,
        )

    def build(self) -> model.AnnotationQuery:
        return self._model


def mitigation_overlay(m: Mitigation, panels: Sequence[int]) -> Overlay:
    expr = f'max by (flag) (autonomic_mitigation_active{{flag="{m.flag}"}}) == 1'
    return Overlay(m.title, expr, m.color, f"{m.flag} held by a lease (Autonomic mitigation)", panels)


@dataclass(frozen=True)
class P:
    """One panel: `kind` is stat, series, bars (stacked bars), stack (stacked lines) or timeline;
    `queries` are (expr, legend) pairs; `steps` are stat thresholds (from value, colour)."""

    kind: str
    id: int
    title: str
    description: str
    queries: Sequence[tuple[str, str]]
    unit: str = "short"
    w: int = 0
    steps: Sequence[tuple[float | None, str]] = ((None, "green"),)


RED_FAILED = [model.DynamicConfigValue(id_val="color", value={"mode": "fixed", "fixedColor": "red"})]
ON_OFF = model.ValueMap(
    options={
        "0": model.ValueMappingResult(text="off", color="transparent", index=0),
        "1": model.ValueMappingResult(text="on", color="orange", index=1),
    }
)


def targets(spec: P, *, instant: bool) -> list[prometheus.Dataquery]:
    out = []
    for ref, (expr, legend) in zip("ABCDEFGH", spec.queries, strict=False):
        query = prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref).datasource(DS)
        out.append(query.instant() if instant else query.range())
    return out


def build(spec: P) -> Panel:
    """The SDK panel for one spec."""
    panel: Any
    if spec.kind == "stat":
        thresholds = db.ThresholdsConfig().mode(model.ThresholdsMode.ABSOLUTE)
        panel = (
            stat.Panel()
            .graph_mode(common.BigValueGraphMode.AREA)
            .reduce_options(cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .thresholds(thresholds.steps([model.Threshold(value=v, color=c) for v, c in spec.steps]))
            .span(spec.w or 4)
            .height(4)
        )
    elif spec.kind == "timeline":
        panel = statetimeline.Panel().mappings([ON_OFF]).show_value(common.VisibilityMode.NEVER)
        panel = panel.merge_values(True).fill_opacity(80).span(spec.w or 24).height(7)
    else:
        panel = timeseries.Panel().span(spec.w or 12).height(8).line_width(1).fill_opacity(15)
        if spec.kind == "bars":
            panel = panel.draw_style(common.GraphDrawStyle.BARS).fill_opacity(80)
        if spec.kind in ("bars", "stack"):
            panel = panel.stacking(cb.StackingConfig().mode(common.StackingMode.NORMAL))
        panel = panel.override_by_regexp(".* failed", RED_FAILED)
    panel = panel.id(spec.id).title(spec.title).description(spec.description).datasource(DS).unit(spec.unit)
    for target in targets(spec, instant=spec.kind == "stat"):
        panel = panel.with_target(target)
    return cast(Panel, panel)


def assemble(dashboard: db.Dashboard, rows: Sequence[tuple[str, Sequence[P]]]) -> db.Dashboard:
    for number, (title, panels) in enumerate(rows, start=1):
        dashboard = dashboard.with_row(db.Row(title).id(100 + number))
        for spec in panels:
            dashboard = dashboard.with_panel(build(spec))
    return dashboard


def base(uid: str, title: str, description: str) -> db.Dashboard:
    datasource = db.DatasourceVariable("datasource").label("Prometheus").type("prometheus")
    dashboard = db.Dashboard(title).uid(uid).description(description).tags(TAGS).editable()
    dashboard = dashboard.refresh("30s").time("now-24h", "now").timezone("utc")
    return dashboard.tooltip(model.DashboardCursorSync.CROSSHAIR).with_variable(datasource)


MITIGATIONS_ON = "count(max by (flag) (autonomic_mitigation_active) == 1) or vector(0)"
OK_RED = ((None, "green"), (1, "red"))
# fmt: off
AUTONOMIC: list[tuple[str, list[P]]] = [
    ("Now", [
        P("stat", 1, "Mitigations on", "Flags held by at least one lease now.",
          [(MITIGATIONS_ON, "")], steps=((None, "green"), (1, "orange"))),
        P("stat", 2, "Paused", "1 while the kill switch is on: executions are refused.",
          [("max(autonomic_paused)", "")], steps=OK_RED),
        P("stat", 3, "Scheduler leaders", "Replicas holding the scheduler lock; exactly 1 is healthy.",
          [("sum(autonomic_scheduler_leader)", "")], steps=((None, "red"), (1, "green"), (2, "red"))),
        P("stat", 4, "Replicas", "Replicas serving /metrics.",
          [("count(autonomic_scheduler_leader)", "")]),
        P("stat", 5, "Dead letters", "Entries in the dead-letter stream (kept 14 days).",
          [("max(autonomic_dead_letter_entries)", "")], steps=OK_RED),
        P("stat", 6, "Queue lag", "Age of the oldest unfinished queue entry.",
          [("max(autonomic_queue_lag_seconds)", "")], "s",
          steps=((None, "green"), (30, "orange"), (120, "red"))),
    ]),
    ("Intake", [
        P("stack", 10, "Webhooks by status code", "Alertmanager webhook requests per second by status.",
          [(f"sum by (code) (rate(autonomic_webhooks_total[{RATE}]))", "{{code}}")], "reqps"),
        P("stack", 11, "Alerts accepted and duplicate", "Alerts per second; duplicates are dropped.",
          [(f"sum by (result) (rate(autonomic_alerts_total[{RATE}]))", "{{result}}")], "reqps"),
        P("series", 12, "Queue backlog", "Entries not yet read (lag) and in flight (pending).",
          [("max by (state) (autonomic_queue_depth)", "{{state}}")]),
        P("series", 13, "Queue lag", "Age of the oldest unfinished entry.",
          [("max(autonomic_queue_lag_seconds)", "oldest entry")], "s"),
        P("series", 14, "Queue backlog by lane",
          "Entries per priority lane (high: critical/page alerts, manual triggers, follow-ups) "
          "not yet read (lag) and in flight (pending).",
          [("max by (lane, state) (autonomic_queue_lane_depth)", "{{lane}} {{state}}")], w=24),
    ]),
    ("Executions and actions", [
        P("bars", 20, "Executions by playbook and outcome", "Finished executions per interval.",
          [(f"sum by (playbook, status) (increase(autonomic_executions_total[{RATE}]))",
            "{{playbook}} {{status}}")]),
        P("series", 21, "Execution duration p95", "95th percentile of execution duration by playbook.",
          [("histogram_quantile(0.95, sum by (le, playbook) "
            f"(rate(autonomic_execution_duration_seconds_bucket[{RATE}])))", "{{playbook}}")], "s"),
        P("series", 22, "Action latency p95", "95th percentile of action duration by kind.",
          [("histogram_quantile(0.95, sum by (le, kind) "
            f"(rate(autonomic_action_duration_seconds_bucket[{RATE}])))", "{{kind}}")], "s"),
        P("bars", 23, "Actions by kind and outcome", "Actions per interval; failed ones in red.",
          [(f"sum by (kind, status) (increase(autonomic_actions_total[{RATE}]))",
            "{{kind}} {{status}}")]),
    ]),
    ("Mitigations", [
        P("timeline", 30, "Active mitigations", "Each flag while at least one lease holds it.",
          [("max by (flag) (autonomic_mitigation_active)", "{{flag}}")]),
        P("bars", 31, "Flag changes by reason", "Value changes: set, released, reverted, expired.",
          [("sum by (reason) (max by (flag, reason) "
            f"(increase(autonomic_flag_changes_total[{RATE}])))", "{{reason}}")]),
        P("timeline", 32, "Paused", "The kill switch.", [("max(autonomic_paused)", "paused")], w=12),
    ]),
    ("Scheduler", [
        P("timeline", 40, "Scheduler leader", "Which replica runs the jobs (exactly one at a time).",
          [("max by (instance) (autonomic_scheduler_leader)", "{{instance}}")], w=12),
        P("series", 41, "Time since last job success", "Per job; JobNotSucceeding fires at 3 intervals.",
          [("time() - max by (job_id) (autonomic_job_last_success_timestamp_seconds)",
            "{{job_id}}")], "s"),
        P("bars", 42, "Job runs by result", "Scheduled-job runs per interval.",
          [(f"sum by (job_id, result) (increase(autonomic_job_runs_total[{RATE}]))",
            "{{job_id}} {{result}}")]),
        P("series", 43, "Dead letters", "Entries dead-lettered per interval, and in the stream.",
          [(f"sum(increase(autonomic_dead_letters_total[{RATE}]))", "dead-lettered"),
           ("max(autonomic_dead_letter_entries)", "in the stream")]),
    ]),
]
# fmt: on

SPEND = "sum(max by (user_id, model) (ai_daily_cost_usd))"
REQUESTS = "sum(max by (model, cache_hit) (ai_hourly_requests))"
HITS = 'sum(max by (model, cache_hit) (ai_hourly_requests{cache_hit="true"}))'
APP_HITS = f"sum(rate(llm_cache_hits_total[{RATE}])) / sum(rate(llm_cache_requests_total[{RATE}]))"
APP_ERRORS = (
    f'sum(rate(llm_requests_total{{status="error"}}[{RATE}])) / sum(rate(llm_requests_total[{RATE}]))'
)
APP_P95 = f"histogram_quantile(0.95, sum by (le) (rate(llm_request_duration_seconds_bucket[{RATE}])))"
TOP_USERS = 'topk(10, sum by (user_id) (max by (user_id, model) (ai_daily_cost_usd{user_id!="_other"})))'
# fmt: off
AI_COST: list[tuple[str, list[P]]] = [
    ("Executive view", [
        P("stat", 1, "Spend today", "LLM spend since midnight UTC.", [(SPEND, "")], "currencyUSD"),
        P("stat", 2, "Of daily budget", "Spend today over the budget variable.",
          [(f"{SPEND} / $daily_budget", "")], "percentunit",
          steps=((None, "green"), (0.8, "orange"), (1, "red"))),
        P("stat", 3, "Requests this hour", "LLM requests since the start of the hour (UTC).",
          [(REQUESTS, "")]),
        P("stat", 4, "Cache-hit rate", "Share of this hour's requests answered from the cache.",
          [(f"{HITS} / {REQUESTS}", "")], "percentunit"),
        P("stat", 5, "Mitigations on", "Flags held by a lease now (see the timeline below).",
          [(MITIGATIONS_ON, "")], steps=((None, "green"), (1, "orange"))),
        P("stat", 6, "Spend this hour", "LLM spend since the start of the hour (UTC).",
          [("max(ai_hourly_cost_usd)", "")], "currencyUSD"),
        P("timeline", 7, "Mitigations", "Each flag while at least one lease holds it.",
          [("max by (flag) (autonomic_mitigation_active)", "{{flag}}")]),
    ]),
    ("Cost", [
        P("series", 10, "Daily spend", "Total since midnight UTC (resets daily).",
          [(SPEND, "spend today")], "currencyUSD"),
        P("stack", 11, "Daily spend by model", "Per model since midnight UTC.",
          [("max by (model) (ai_daily_cost_by_model_usd)", "{{model}}")], "currencyUSD"),
        P("series", 12, "Top users today", "The 10 largest spenders (the rest is summed as _other).",
          [(TOP_USERS, "{{user_id}}")], "currencyUSD"),
        P("series", 13, "Hourly spend", "Spend since the start of the hour (the CostSpike rule's input).",
          [("max(ai_hourly_cost_usd)", "this hour")], "currencyUSD"),
    ]),
    ("Traffic and cache", [
        P("stack", 20, "Requests this hour by model", "Cache hits and misses per model.",
          [("max by (model, cache_hit) (ai_hourly_requests)", "{{model}} hit={{cache_hit}}")]),
        P("series", 21, "Cache-hit rate", "Requests answered from the cache: exporter and application.",
          [(f"{HITS} / {REQUESTS}", "exporter (this hour)"), (APP_HITS, "application")],
          "percentunit"),
    ]),
    ("Latency and errors", [
        P("series", 22, "Mean response time by model", "This hour's mean LLM latency (exporter).",
          [("max by (model) (ai_avg_response_time_seconds)", "{{model}}")], "s"),
        P("series", 23, "Application p95 latency", "From the LLM application's own histogram.",
          [(APP_P95, "p95")], "s"),
        P("series", 24, "Application error rate", "Share of LLM requests that failed.",
          [(APP_ERRORS, "errors")], "percentunit"),
    ]),
]
# fmt: on
# Which mitigation overlays which panels of the cost dashboard.
SPEND_PANELS, TRAFFIC_PANELS, LATENCY_PANELS = [1, 2, 6, 10, 11, 12, 13], [3, 4, 20, 21], [22, 23, 24]
OVERLAYS = [
    (ECONOMY, SPEND_PANELS + LATENCY_PANELS),
    (CACHE, SPEND_PANELS + TRAFFIC_PANELS + LATENCY_PANELS),
    (RATE_LIMIT, SPEND_PANELS + TRAFFIC_PANELS),
    (FALLBACK, TRAFFIC_PANELS + LATENCY_PANELS),
]


def autonomic() -> db.Dashboard:
    """What the automation does."""
    paused = Overlay("Paused", "max(autonomic_paused) == 1", "yellow", "Autonomic paused: no new action runs")
    description = "Intake, queue, executions, actions and mitigations of Autonomic."
    return assemble(base("autonomic", "Autonomic", description).annotation(paused), AUTONOMIC)


def ai_cost() -> db.Dashboard:
    """The guide's executive and cost-management views, with mitigations overlaid."""
    description = "LLM spend, traffic, cache and latency, with the periods Autonomic's mitigations were on."
    dashboard = base("autonomic-ai-cost", "AI cost and mitigations", description)
    dashboard = dashboard.with_variable(
        db.TextBoxVariable("daily_budget").label("Daily budget (USD)").default_value("1000")
    )
    for mitigation, panels in OVERLAYS:
        dashboard = dashboard.annotation(mitigation_overlay(mitigation, panels))
    return assemble(dashboard, AI_COST)


DASHBOARDS = {"autonomic": autonomic, "ai-cost": ai_cost}


def render(name: str) -> str:
    """One dashboard as stable, sorted JSON text."""
    return json.dumps(DASHBOARDS[name]().build(), cls=JSONEncoder, indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m app.dashboards [--check] [DIR]`: write (or compare) every dashboard's JSON."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    if not args and not (CHART / "Chart.yaml").is_file():
        print("error: no Helm chart beside this package: give the output folder (DIR)", file=sys.stderr)
        return 2
    out = Path(args[0]) if args else OUT
    stale = []
    for name in DASHBOARDS:
        path, text = out / f"{name}.json", render(name)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            out.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        print(f"out of date (run python -m app.dashboards): {', '.join(stale)}", file=sys.stderr)
        return 1
    print(f"{'up to date' if check else 'wrote'}: {', '.join(str(out / f'{n}.json') for n in DASHBOARDS)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
