"""What the dashboards and rules query: their PromQL (Grafana variables replaced so Prometheus
and promtool accept it) and the metric names in it (walked with the `promql-parser` AST)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from tests.support.procs import ROOT

DASHBOARDS = ROOT / "helm" / "autonomic" / "dashboards"
RULES = ROOT / "helm" / "autonomic" / "files" / "alert-rules.yml"
OPERATIONS = ROOT / "docs" / "operations.md"
# Grafana's built-in interval variables and the dashboards' own, as a user would see them.
VARIABLES = {"$__rate_interval": "2m", "$__interval": "1m", "$__range": "1h", "$daily_budget": "1000"}


def substitute(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unknown Grafana variable in {expr!r}"
    return expr


def dashboard_queries(path: Path) -> Iterator[tuple[str, str]]:
    """(where, expr) for every panel target and annotation of one dashboard file."""
    board: dict[str, Any] = json.loads(path.read_text())
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield f"{path.name}: {panel['title']}", substitute(target["expr"])
    for annotation in board.get("annotations", {}).get("list", []):
        if "expr" in annotation:
            yield f"{path.name}: annotation {annotation['name']}", substitute(annotation["expr"])


def all_dashboard_queries() -> list[tuple[str, str]]:
    return [q for path in sorted(DASHBOARDS.glob("*.json")) for q in dashboard_queries(path)]


def rule_queries() -> list[tuple[str, str]]:
    rules = yaml.safe_load(RULES.read_text())
    return [
        (f"rule {r.get('alert') or r.get('record')}", r["expr"]) for g in rules["groups"] for r in g["rules"]
    ]


def metric_names(expr: str) -> set[str]:
    """Every metric name a PromQL expression selects."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if type(node).__name__ == "VectorSelector" and node.name:
            names.add(node.name)
        for attr in ("lhs", "rhs", "expr", "args", "param", "vector_selector"):
            child = getattr(node, attr, None)
            for item in child if isinstance(child, list | tuple) else [child]:
                if item is not None and not isinstance(item, str | int | float):
                    walk(item)

    walk(promql_parser.parse(expr))
    return names


def documented_application_metrics() -> set[str]:
    """The LLM application's own metrics (llm_*) as docs/operations.md's table lists them; a
    histogram's series (_bucket, _count, _sum) included."""
    names = set(re.findall(r"^\| `(llm_[a-z0-9_]+)` \| histogram", OPERATIONS.read_text(), re.MULTILINE))
    plain = set(re.findall(r"^\| `(llm_[a-z0-9_]+)` \|", OPERATIONS.read_text(), re.MULTILINE))
    return plain | {f"{n}{suffix}" for n in names for suffix in ("_bucket", "_count", "_sum")}
