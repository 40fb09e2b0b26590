"""The Helm chart under a real helm 4: `helm lint` and `helm template` for each values case, every
rendered object validated against the Kubernetes 1.34 schemas (kubernetes-validate, strict), the
PrometheusRule checked by promtool, a custom playbook loaded from the rendered ConfigMap, and
`lookup` run against the kmock emulator to prove generated tokens survive an upgrade."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kmock
import kubernetes_validate
import pytest
import yaml

from app.settings import Settings
from tests.support.kube import KubeEmulator
from tests.support.procs import ROOT
from tests.support.tools import run, tool

CHART = ROOT / "helm" / "autonomic"
K8S_VERSION = "1.34.0"
SECRET = "autonomic-tokens"
REQUIRED_KEYS = {"webhook-token", "operator-token"}
OPTIONAL_ENV = {
    "AUTONOMIC_VIEWER_TOKEN": "viewer-token",
    "AUTONOMIC_OPERATOR_TOKENS": "operator-tokens",
    "AUTONOMIC_VIEWER_TOKENS": "viewer-tokens",
    "AUTONOMIC_FLAGS_TOKEN": "flags-token",
    "AUTONOMIC_METRICS_TOKEN": "metrics-token",
    "AUTONOMIC_SESSION_SECRET": "session-secret",
    "AUTONOMIC_ALERTMANAGER_TOKEN": "alertmanager-token",
    "AUTONOMIC_SLACK_TOKEN": "slack-token",
    "AUTONOMIC_PAGERDUTY_ROUTING_KEY": "pagerduty-routing-key",
    "AUTONOMIC_NOTIFY_TOKEN": "notify-token",
}
PLAYBOOK = '''from app.sdk import Alert, Context, playbook


@playbook(match='alertname="GpuHot"')
async def gpu_hot(alert: Alert, ctx: Context) -> None:
    """Shed load while the GPUs are hot."""
    await ctx.flags.set("queue.shed_low_priority", "true", ttl="30m")
'''
CASES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "existing-secret-minimal": {"auth": {"existingSecret": SECRET}, "kubernetes": {"namespaces": ["llm"]}},
    "existing-secret-all-keys": {
        "auth": {"existingSecret": SECRET},
        "notify": {"userUrl": "https://app.example/notify"},
    },
    "custom-playbooks": {"playbooks": {"gpu.py": PLAYBOOK}},
    "monitoring": {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}},
    "dashboards": {"grafanaDashboards": {"enabled": True, "namespace": "monitoring"}},
}


def helm(*args: str, env: dict[str, str] | None = None) -> str:
    result = run(tool("helm"), *args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def render(
    values: dict[str, Any], tmp_path: Path, *extra: str, env: dict[str, str] | None = None
) -> list[Any]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    out = helm("template", "t", str(CHART), "-n", "autonomic", "-f", str(path), *extra, env=env)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def by_kind(docs: list[Any], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def container(docs: list[Any]) -> dict[str, Any]:
    (deployment,) = by_kind(docs, "Deployment")
    (main,) = deployment["spec"]["template"]["spec"]["containers"]
    return main  # type: ignore[no-any-return]


def env_of(docs: list[Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container(docs)["env"]}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """Each case linted and rendered once."""
    docs = {}
    for name, values in CASES.items():
        directory = tmp_path_factory.mktemp(name)
        (directory / "values.yaml").write_text(yaml.safe_dump(values))
        helm("lint", "--strict", str(CHART), "-f", str(directory / "values.yaml"))
        docs[name] = render(values, directory)
    return docs


def test_helm_is_version_4() -> None:
    assert helm("version", "--short").startswith("v4.")


@pytest.mark.parametrize("case", CASES)
def test_every_object_is_valid_kubernetes_1_34(rendered: dict[str, list[Any]], case: str) -> None:
    docs = rendered[case]
    assert {"Deployment", "Service", "ServiceAccount", "NetworkPolicy", "PodDisruptionBudget"} <= {
        d["kind"] for d in docs
    }
    for doc in docs:
        if doc["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # a CRD: the Prometheus Operator's schema is not in kubernetes-validate
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_default_secret_holds_generated_tokens_and_no_optional_key(rendered: dict[str, list[Any]]) -> None:
    (secret,) = by_kind(rendered["defaults"], "Secret")
    assert set(secret["stringData"]) == REQUIRED_KEYS
    assert all(len(token) >= 24 for token in secret["stringData"].values())
    env = env_of(rendered["defaults"])
    assert not set(OPTIONAL_ENV) & set(env)  # nothing configured, nothing wired


def _required_secret_keys(docs: list[Any]) -> set[str]:
    """Keys of the existing Secret that the pod cannot start without."""
    main = container(docs)
    required = set()
    for item in main["env"]:
        ref = item.get("valueFrom", {}).get("secretKeyRef")
        if ref and ref["name"] == SECRET and not ref.get("optional"):
            required.add(ref["key"])
        if item["name"].endswith("_FILE") and item["value"].startswith("/etc/autonomic/secrets/"):
            required.add(item["value"].rsplit("/", 1)[1])
    (deployment,) = by_kind(docs, "Deployment")
    for volume in deployment["spec"]["template"]["spec"]["volumes"]:
        if volume.get("secret", {}).get("secretName") == SECRET:
            required |= {item["key"] for item in volume["secret"].get("items", [])}
    return required


def test_existing_secret_with_only_the_two_tokens_is_enough(rendered: dict[str, list[Any]]) -> None:
    docs = rendered["existing-secret-minimal"]
    assert not by_kind(docs, "Secret")  # the chart makes none
    assert _required_secret_keys(docs) == REQUIRED_KEYS
    assert {d["metadata"]["namespace"] for d in by_kind(docs, "Role")} == {"llm"}


def test_existing_secret_wires_slack_pagerduty_notify_and_viewer(rendered: dict[str, list[Any]]) -> None:
    env = env_of(rendered["existing-secret-all-keys"])
    for name, key in OPTIONAL_ENV.items():
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"], ref["optional"]) == (SECRET, key, True)
    assert env["AUTONOMIC_NOTIFY_USER_URL"]["value"] == "https://app.example/notify"


def test_values_secrets_are_wired_from_the_chart_secret(tmp_path: Path) -> None:
    values = {
        "slack": {"token": "xoxb-1"},
        "pagerduty": {"routingKey": "r" * 32},
        "auth": {
            "viewerToken": "v" * 24,
            "operatorTokens": f"alice:{'a' * 24}",
            "viewerTokens": f"bob:{'b' * 24}",
            "flagsToken": "f" * 24,
            "metricsToken": "m" * 24,
            "sessionSecret": "s" * 32,
        },
        "alertmanager": {"token": "t" * 24},
    }
    docs = render(values, tmp_path)
    (secret,) = by_kind(docs, "Secret")
    env = env_of(docs)
    for name, key in OPTIONAL_ENV.items():
        if key == "notify-token":
            assert name not in env and key not in secret["stringData"]
            continue
        assert env[name]["valueFrom"]["secretKeyRef"]["key"] == key
        assert key in secret["stringData"]


def test_custom_playbooks_are_mounted_read_only_and_load(
    rendered: dict[str, list[Any]], tmp_path: Path
) -> None:
    docs = rendered["custom-playbooks"]
    (configmap,) = by_kind(docs, "ConfigMap")
    main = container(docs)
    (mount,) = [m for m in main["volumeMounts"] if m["name"] == "playbooks"]
    assert mount == {"name": "playbooks", "mountPath": "/etc/autonomic/playbooks", "readOnly": True}
    (deployment,) = by_kind(docs, "Deployment")
    (volume,) = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "playbooks"]
    assert volume["configMap"]["defaultMode"] == 0o444
    assert env_of(docs)["AUTONOMIC_PLAYBOOK_DIRS"]["value"] == "/etc/autonomic/playbooks"
    for name, source in configmap["data"].items():
        (tmp_path / name).write_text(source)
    checked = run(tool("autonomic"), "playbooks", "--json", str(tmp_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "gpu_hot" in {p["name"] for p in json.loads(checked.stdout)}


def test_monitoring_objects(rendered: dict[str, list[Any]], tmp_path: Path) -> None:
    docs = rendered["monitoring"]
    (monitor,) = by_kind(docs, "ServiceMonitor")
    (service,) = by_kind(docs, "Service")
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in {p["name"] for p in service["spec"]["ports"]}
    (rule,) = by_kind(docs, "PrometheusRule")
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rule["spec"]))
    checked = run("promtool", "check", "rules", str(tmp_path / "rules.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 22 rules found" in checked.stdout


def test_reconciler_is_pointed_at_alertmanager_and_the_settings_parse(tmp_path: Path) -> None:
    """The level-triggered reconciler needs Alertmanager's URL; every plain setting the chart
    renders is one the service accepts (an unknown or malformed one would fail start-up)."""
    urls = ["http://alertmanager-operated.monitoring:9093", "http://am-2.monitoring:9093"]
    docs = render(
        {"alertmanager": {"urls": urls, "reconcileInterval": "15s", "resolveAfter": "3m"}}, tmp_path
    )
    env = {name: item["value"] for name, item in env_of(docs).items() if "value" in item}
    assert env["AUTONOMIC_ALERTMANAGER_URLS"] == ",".join(urls)
    plain = {k: v for k, v in env.items() if not k.endswith("_FILE")}
    settings = Settings(_env_file=None, **{k.removeprefix("AUTONOMIC_").lower(): v for k, v in plain.items()})
    assert settings.alertmanager_urls == urls
    assert (settings.reconcile_seconds, settings.reconcile_resolve_after) == (15.0, 180.0)
    defaults = env_of(render({}, tmp_path / "defaults"))
    assert "AUTONOMIC_ALERTMANAGER_URLS" not in defaults  # nothing to reconcile against until set


def test_service_monitor_sends_the_metrics_token_when_there_is_one(tmp_path: Path) -> None:
    (plain,) = by_kind(render({"serviceMonitor": {"enabled": True}}, tmp_path / "plain"), "ServiceMonitor")
    assert "authorization" not in plain["spec"]["endpoints"][0]
    for values in (
        {"auth": {"metricsToken": "m" * 24}},
        {"auth": {"existingSecret": SECRET}, "serviceMonitor": {"sendMetricsToken": True}},
    ):
        name = json.dumps(values, sort_keys=True).encode().hex()[:16]
        docs = render(
            {**values, "serviceMonitor": {"enabled": True, **values.get("serviceMonitor", {})}},
            tmp_path / name,
        )
        (monitor,) = by_kind(docs, "ServiceMonitor")
        credentials = monitor["spec"]["endpoints"][0]["authorization"]["credentials"]
        secret = SECRET if "existingSecret" in values.get("auth", {}) else "t-autonomic"
        assert credentials == {"name": secret, "key": "metrics-token"}


def _peers(docs: list[Any]) -> list[Any]:
    (policy,) = by_kind(docs, "NetworkPolicy")
    return [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]


def test_network_policy_admits_only_listed_namespaces(rendered: dict[str, list[Any]], tmp_path: Path) -> None:
    (peer,) = _peers(rendered["defaults"])
    assert peer == {
        "namespaceSelector": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["monitoring"]}
            ]
        }
    }
    extra = {"podSelector": {"matchLabels": {"app": "ops"}}}
    values = {"networkPolicy": {"allowNamespaces": ["monitoring", "observability"], "ingressFrom": [extra]}}
    peers = _peers(render(values, tmp_path))
    assert peers[0]["namespaceSelector"]["matchExpressions"][0]["values"] == ["monitoring", "observability"]
    assert peers[1] == extra
    # With nothing listed nobody is admitted: an ingress rule without peers would admit everyone.
    closed = render({"networkPolicy": {"allowNamespaces": [], "ingressFrom": []}}, tmp_path)
    (policy,) = by_kind(closed, "NetworkPolicy")
    assert policy["spec"]["ingress"] == []


# -- tokens survive upgrades: `lookup` against the kmock emulator ---------------------------------

DISCOVERY = {
    "v1/secrets": "Secret",
    "v1/services": "Service",
    "v1/serviceaccounts": "ServiceAccount",
    "v1/configmaps": "ConfigMap",
    "apps/v1/deployments": "Deployment",
    "policy/v1/poddisruptionbudgets": "PodDisruptionBudget",
    "networking.k8s.io/v1/networkpolicies": "NetworkPolicy",
    "rbac.authorization.k8s.io/v1/roles": "Role",
    "rbac.authorization.k8s.io/v1/rolebindings": "RoleBinding",
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[KubeEmulator, dict[str, str]]]:
    """kmock with the discovery helm needs; yields it and an environment pointing helm at it."""
    emulator = KubeEmulator()

    def declare(k: Any) -> None:
        for resource, kind in DISCOVERY.items():
            k.resources[resource] = kmock.ResourceInfo(
                kind=kind, namespaced=True, singular=kind.lower(), verbs={"get", "list", "create", "patch"}
            )

    emulator.run(declare)
    # kmock names the core group "/v1" in its discovery; helm needs "v1".
    core = {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "v1",
        "resources": [
            {
                "name": r.split("/")[1],
                "kind": kind,
                "namespaced": True,
                "singularName": kind.lower(),
                "verbs": ["get"],
            }
            for r, kind in DISCOVERY.items()
            if r.startswith("v1/")
        ],
    }
    emulator.run(lambda k: k["get /api/v1"] << core)
    env = {**os.environ, "KUBECONFIG": str(emulator.kubeconfig(tmp_path)), "HELM_CACHE_HOME": str(tmp_path)}
    try:
        yield emulator, env
    finally:
        emulator.stop()


def test_generated_tokens_survive_an_upgrade(
    cluster: tuple[KubeEmulator, dict[str, str]], tmp_path: Path
) -> None:
    emulator, env = cluster
    server = ("--dry-run=server", "--disable-openapi-validation")
    (fresh,) = by_kind(render({}, tmp_path, *server, env=env), "Secret")
    # What the first install stored, as helm leaves it (ownership labels and annotations).
    stored = {key: "s" * 24 + key for key in REQUIRED_KEYS}
    emulator.add(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "t-autonomic",
                "namespace": "autonomic",
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "annotations": {
                    "meta.helm.sh/release-name": "t",
                    "meta.helm.sh/release-namespace": "autonomic",
                },
            },
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in stored.items()},
        },
        "v1/secrets",
    )
    (upgraded,) = by_kind(render({}, tmp_path, *server, env=env), "Secret")
    assert upgraded["stringData"] == stored
    assert fresh["stringData"] != stored
    # A token given in the values still wins over the stored one.
    (explicit,) = by_kind(render({"auth": {"operatorToken": "o" * 32}}, tmp_path, *server, env=env), "Secret")
    assert explicit["stringData"] == {**stored, "operator-token": "o" * 32}
    assert emulator.requests("GET", "/secrets/t-autonomic")


def test_schema_refuses_a_short_token_at_install_time(tmp_path: Path) -> None:
    """The service would refuse it at start-up (crash-looping pods after a "successful" install)."""
    for values in ({"auth": {"metricsToken": "short"}}, {"auth": {"operatorTokens": "alice:short"}}):
        (tmp_path / "values.yaml").write_text(yaml.safe_dump(values))
        result = run(tool("helm"), "template", "t", str(CHART), "-f", str(tmp_path / "values.yaml"))
        assert result.returncode != 0 and "does not match pattern" in result.stderr, result.stderr


def test_the_readme_alertmanager_url_names_the_service_of_the_documented_install(tmp_path: Path) -> None:
    """deploy.md installs release `autonomic` in namespace `autonomic`; the README and the shipped
    Alertmanager example send webhooks to that Service."""
    out = helm("template", "autonomic", str(CHART), "-n", "autonomic")
    (service,) = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "Service"]
    url = f"http://{service['metadata']['name']}.autonomic.svc:{service['spec']['ports'][0]['port']}"
    example = (CHART / "files" / "alertmanager.example.yml").read_text()
    assert f"{url}/webhooks/alertmanager" in (ROOT / "README.md").read_text()
    assert f"{url}/webhooks/alertmanager" in example


def test_a_release_named_autonomic_keeps_the_tokens_of_its_older_secret_name(
    cluster: tuple[KubeEmulator, dict[str, str]],
) -> None:
    """Before the chart shortened the name, release `autonomic` made `autonomic-autonomic`; an
    upgrade must not generate new tokens (Alertmanager would get 401)."""
    emulator, env = cluster
    stored = {key: "s" * 24 + key for key in REQUIRED_KEYS}
    emulator.add(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "autonomic-autonomic", "namespace": "autonomic"},
            "data": {key: base64.b64encode(value.encode()).decode() for key, value in stored.items()},
        },
        "v1/secrets",
    )
    out = helm(
        "template",
        "autonomic",
        str(CHART),
        "-n",
        "autonomic",
        "--dry-run=server",
        "--disable-openapi-validation",
        env=env,
    )
    (secret,) = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "Secret"]
    assert secret["metadata"]["name"] == "autonomic"
    assert secret["stringData"] == stored
