"""Deployment artifacts: alert rules (promtool), the Alertmanager example (amtool), the Helm
chart's values against its schema and YAML lint (helm itself: test_chart.py), the Dockerfile
(hadolint) and the wheel the image installs (driven from a fresh venv: test_wheel.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.support.procs import ROOT
from tests.support.tools import tool

CHART = ROOT / "helm" / "autonomic"
FILES = CHART / "files"
WHEEL_BUILD = ("wheel", "--no-deps")  # as the Dockerfile builds it


def run(*cmd: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


@pytest.mark.parametrize("tool", ["promtool", "amtool"])
def test_tools_are_installed(tool: str) -> None:
    assert shutil.which(tool), f"{tool} missing: apt-get install prometheus prometheus-alertmanager"


def test_rules_check_and_unit_tests() -> None:
    checked = run("promtool", "check", "rules", "alert-rules.yml", cwd=FILES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 22 rules found" in checked.stdout
    tested = run("promtool", "test", "rules", "alert-rules.test.yml", cwd=FILES)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_builtin_playbook_has_an_alert_rule() -> None:
    rules = yaml.safe_load((FILES / "alert-rules.yml").read_text())
    # autonomic.rules watches Autonomic itself and goes to people, not to playbooks.
    alerts = {
        rule["alert"]
        for group in rules["groups"]
        if group["name"] != "autonomic.rules"
        for rule in group["rules"]
    }
    from app.plugins import loader
    from app.settings import builtin_playbook_dir

    directory = builtin_playbook_dir()
    assert directory is not None
    registry = loader.load([directory], use_entry_points=False)
    matched = {m.value for spec in registry for m in spec.matchers if m.name == "alertname" and m.op == "="}
    assert matched == alerts


def test_alertmanager_example_config() -> None:
    result = run("amtool", "check-config", str(FILES / "alertmanager.example.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def schema() -> dict[str, object]:
    return json.loads((CHART / "values.schema.json").read_text())  # type: ignore[no-any-return]


def test_default_values_match_the_schema() -> None:
    jsonschema.validate(yaml.safe_load((CHART / "values.yaml").read_text()), schema())


@pytest.mark.parametrize(
    "override",
    [
        {"replicaCount": 0},
        {"redis": {"url": "http://redis:6379"}},
        {"kubernetes": {"namespaces": ["Bad_Namespace"]}},
        {"playbooks": {"not python.txt": "x"}},
        {"image": {"repository": ""}},
    ],
)
def test_schema_rejects_bad_values(override: dict[str, object]) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    values.update(override)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, schema())


def test_yaml_lint() -> None:
    files = [CHART / "Chart.yaml", CHART / "values.yaml", *FILES.glob("*.yml")]
    config = "{extends: relaxed, rules: {line-length: {max: 200}}}"
    result = run(sys.executable, "-m", "yamllint", "-s", "-d", config, *map(str, files))
    assert result.returncode == 0, result.stdout + result.stderr


def test_chart_security_and_rbac() -> None:
    deployment = (CHART / "templates" / "deployment.yaml").read_text()
    for required in (
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "allowPrivilegeEscalation: false",
        "path: /healthz",
        "path: /readyz",
        "capabilities: {drop: [ALL]}",
    ):
        assert required in deployment
    rbac = (CHART / "templates" / "rbac.yaml").read_text()
    assert "kind: ClusterRole" not in rbac  # namespaced Roles only, per allowlisted namespace
    assert 'verbs: ["get", "patch"]' in rbac and 'verbs: ["get", "list", "delete"]' in rbac
    assert "/scale" not in rbac  # scaling patches the workload: no verbs nothing uses
    assert "range $ns := .Values.kubernetes.namespaces" in rbac


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert text.count("FROM ") == 2 and "AS build" in text
    assert "USER 10001" in text and "HEALTHCHECK" in text
    assert 'ENTRYPOINT ["autonomic"]' in text and 'CMD ["serve"]' in text
    final = text.split("FROM python:3.11-slim\n", 1)[1]
    assert "gcc" not in final and "build-essential" not in final


def test_hadolint_passes() -> None:
    result = run(tool("hadolint"), "--failure-threshold", "info", "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_installs_the_tested_wheel_and_keeps_playbooks_read_only() -> None:
    text = (ROOT / "Dockerfile").read_text()
    # The same build command tests/deploy/test_wheel.py installs from and drives.
    assert f"pip {' '.join(WHEEL_BUILD)} -w /wheels ." in text.replace("--no-cache-dir ", "")
    assert "pip install --no-cache-dir /wheels/autonomic-*.whl" in text
    assert "install ." not in text and " -e " not in text
    # The runtime user may read, never write, the code it runs.
    final = text.split("FROM python:3.11-slim\n", 1)[1]
    assert "chown" not in final
    assert "install -d -m 0755 -o root -g root /etc/autonomic /etc/autonomic/playbooks" in final
    assert final.index("install -d") < final.index("USER 10001")


def test_the_wheel_ships_playbooks_scripts_and_templates(tmp_path: Path) -> None:
    built = run(sys.executable, "-m", "pip", *WHEEL_BUILD, "-q", "-w", str(tmp_path), ".")
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("autonomic-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "app/builtin_playbooks/cost.py",
        "app/builtin_playbooks/availability.py",
        "app/actions/flags.lua",
        "app/engine/intake.lua",
        "app/engine/reconcile.lua",
        "app/web/templates/dashboard.html",
        "app/web/templates/fragments/flags.html",
        "app/py.typed",
    ):
        assert required in names
