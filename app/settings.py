"""Service settings from the environment (prefix `AUTONOMIC_`), validated by pydantic-settings.

Secrets accept a `*_FILE` variant (`AUTONOMIC_WEBHOOK_TOKEN_FILE=/run/secrets/token`)
so Kubernetes secrets can be mounted as files; list settings accept commas.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.cost_columns import parse_columns
from app.durations import parse_duration
from app.matchers import parse

Seconds = Annotated[float, BeforeValidator(parse_duration)]
CommaList = Annotated[list[str], NoDecode]

_SECRETS = (
    "webhook_token",
    "operator_token",
    "viewer_token",
    "flags_token",
    "operator_tokens",
    "viewer_tokens",
    "metrics_token",
    "session_secret",
    "slack_token",
    "slack_webhook_url",
    "pagerduty_routing_key",
    "notify_token",
    "es_api_key",
    "es_password",
    "alertmanager_password",
    "alertmanager_token",
)


def builtin_playbook_dir() -> Path | None:
    """The shipped `playbooks/` folder, installed as `app.builtin_playbooks` or in a checkout."""
    spec = importlib.util.find_spec("app.builtin_playbooks")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if Path(location).is_dir():
                return Path(location)
    checkout = Path(__file__).resolve().parent.parent / "playbooks"
    return checkout if checkout.is_dir() else None


class Settings(BaseSettings):
    """Everything configurable; see README "Settings" for the operator's view."""

    model_config = SettingsConfigDict(env_prefix="AUTONOMIC_", extra="ignore")

    host: str = "0.0.0.0"  # noqa: S104 - a service in a container listens on all interfaces
    port: int = Field(8080, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "console"] = "json"

    redis_url: str = "memory://"
    redis_namespace: str = "autonomic:"
    redis_timeout: Seconds = 2.0
    redis_wait_replicas: int = Field(0, ge=0)  # replicas that must confirm an accepted alert
    flag_prefix: str = "flags:"

    webhook_token: SecretStr | None = None
    webhook_token_file: Path | None = None
    operator_token: SecretStr | None = None
    operator_token_file: Path | None = None
    viewer_token: SecretStr | None = None
    viewer_token_file: Path | None = None
    flags_token: SecretStr | None = None  # read-only, OFREP flag evaluation only
    flags_token_file: Path | None = None
    # Named tokens, `name:token,name:token`: actions are attributed to the name (app/web/credentials.py).
    operator_tokens: SecretStr | None = None
    operator_tokens_file: Path | None = None
    viewer_tokens: SecretStr | None = None
    viewer_tokens_file: Path | None = None
    metrics_token: SecretStr | None = None
    metrics_token_file: Path | None = None
    session_secret: SecretStr | None = None
    session_secret_file: Path | None = None
    # An authenticating proxy (oauth2-proxy...) at one of these CIDRs names the user in this header.
    trusted_proxies: CommaList = []
    identity_header: str | None = None
    # Passed to uvicorn: peers whose X-Forwarded-For / X-Forwarded-Proto are believed.
    forwarded_allow_ips: str | None = None

    dry_run: bool = False
    builtin_playbooks: bool = True
    playbook_dirs: CommaList = []
    playbook_entry_points: bool = True
    playbook_timeout: Seconds = 60.0
    kube_namespaces: CommaList = []

    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    dedup_ttl: Seconds = 3600.0
    queue_max_len: int = Field(200_000, ge=10)  # both priority lanes together
    # Alerts matching this (Alertmanager matcher syntax; empty: none) go to the high-priority lane.
    priority_high_match: str = 'severity=~"critical|page"'
    # While the high lane is busy, 1 read in N still takes from the normal lane first.
    priority_normal_share: int = Field(4, ge=2, le=1000)
    workers: int = Field(8, ge=1, le=1024)
    # Extra slots only the high lane uses: a critical alert starts at once in a warning storm.
    high_lane_workers: int = Field(4, ge=0, le=1024)
    # While every WORKERS slot is busy (the high lane's own apart), at most this many webhooks
    # are handled at once (the rest wait their turn, up to INTAKE_BUSY_WAIT, then 503): intake
    # cannot starve execution.
    intake_busy_permits: int = Field(1, ge=0, le=100_000)
    intake_busy_wait: Seconds = 2.0
    claim_idle: Seconds = 30.0
    max_deliveries: int = Field(5, ge=1)
    max_attempts: int = Field(3, ge=1)
    retry_base_delay: Seconds = 1.0
    retry_max_delay: Seconds = 60.0
    shutdown_grace: Seconds = 20.0
    executions_max_len: int = Field(10_000, ge=10)
    execution_ttl: Seconds = 7 * 86400.0
    lease_grace: Seconds = 60.0
    default_flag_ttl: Seconds = 3600.0

    public_url: str | None = None
    approval_timeout: Seconds = 1800.0
    action_attempts: int = Field(4, ge=1, le=20)
    action_retry_base: Seconds = 0.5
    action_retry_max: Seconds = 10.0
    action_timeout: Seconds = 10.0

    kubeconfig: Path | None = None
    kube_context: str | None = None
    kube_restart_budget: int = Field(3, ge=0)  # writes per workload per kube_budget_window
    kube_namespace_budget: int = Field(10, ge=0)
    kube_total_budget: int = Field(20, ge=0)
    kube_budget_window: Seconds = 3600.0
    kube_require_opt_in: bool = False
    kube_max_pod_deletes: int = Field(5, ge=1)

    slack_token: SecretStr | None = None
    slack_token_file: Path | None = None
    slack_webhook_url: SecretStr | None = None
    slack_webhook_url_file: Path | None = None
    slack_base_url: str = "https://slack.com/api/"
    slack_channel: str = "#alerts"

    pagerduty_routing_key: SecretStr | None = None
    pagerduty_routing_key_file: Path | None = None
    pagerduty_events_url: str = "https://events.pagerduty.com"
    pagerduty_ca_bundle: Path | None = None

    notify_user_url: str | None = None
    notify_token: SecretStr | None = None
    notify_token_file: Path | None = None

    alertmanager_urls: CommaList = []
    alertmanager_username: str | None = None
    alertmanager_password: SecretStr | None = None
    alertmanager_password_file: Path | None = None
    alertmanager_token: SecretStr | None = None
    alertmanager_token_file: Path | None = None
    alertmanager_ca_bundle: Path | None = None
    reconcile_interval: str = "30s"
    # Absence must last this long too (not only two passes): an Alertmanager restarted with
    # an empty state learns the alert again only at Prometheus' resend delay (~1m).
    reconcile_resolve_after: Seconds = Field(120.0, ge=0)

    leader_ttl: Seconds = 15.0
    job_cost_exporter: str = "interval:30s"
    job_lease_sweeper: str = "interval:5s"
    job_lifecycle: str = "cron:17 * * * *"

    cost_source: str = "redis"
    cost_redis_url: str | None = None
    cost_key_prefix: str = ""
    cost_top_users: int = Field(50, ge=1, le=10_000)
    cost_table: str = "requests"
    cost_columns: str = ""  # name=column overrides for the SQL source, see docs/jobs.md
    cost_user_label: Literal["raw", "hash"] = "raw"

    execution_retention: Seconds = 7 * 86400.0
    dead_letter_retention: Seconds = 14 * 86400.0
    es_url: str | None = None
    es_index_prefixes: CommaList = []
    es_retention_days: int = Field(30, ge=1)
    es_snapshot_repository: str = "autonomic-retention"
    es_dry_run: bool = False
    es_api_key: SecretStr | None = None
    es_api_key_file: Path | None = None
    es_username: str | None = None
    es_password: SecretStr | None = None
    es_password_file: Path | None = None
    es_ca_bundle: Path | None = None

    def secret_values(self) -> list[str]:
        """Every configured secret, for redaction (each token of a named list on its own)."""
        values = [s.get_secret_value() for name in _SECRETS if (s := getattr(self, name)) is not None]
        for name in ("operator_tokens", "viewer_tokens"):
            if (listed := getattr(self, name)) is not None:
                values += [item.partition(":")[2].strip() for item in listed.get_secret_value().split(",")]
        return [v for v in values if v]

    @field_validator("priority_high_match")
    @classmethod
    def _lane_match(cls, value: str) -> str:
        if value.strip():
            parse(value)  # a ValueError names what is wrong with the matcher
        return value

    @field_validator("job_cost_exporter", "job_lease_sweeper", "job_lifecycle")
    @classmethod
    def _schedule(cls, value: str) -> str:
        kind, _, rest = value.strip().partition(":")
        if kind == "off" and not rest:
            return value
        if kind == "interval":
            parse_duration(rest)
            return value
        if kind == "cron" and len(rest.split()) == 5:
            return value
        raise ValueError("use interval:<duration>, cron:<5-field crontab> or off")

    @field_validator("reconcile_interval")
    @classmethod
    def _interval_or_off(cls, value: str) -> str:
        text = value.strip().lower()
        if text != "off" and parse_duration(text) <= 0:
            raise ValueError("use a positive duration (30s, 1m) or off")
        return text

    @field_validator("alertmanager_urls")
    @classmethod
    def _http_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return [url.rstrip("/") for url in value]

    @property
    def reconcile_seconds(self) -> float | None:
        """The reconciler's interval in seconds, None when `off`."""
        return None if self.reconcile_interval == "off" else parse_duration(self.reconcile_interval)

    @field_validator(
        "playbook_dirs",
        "kube_namespaces",
        "es_index_prefixes",
        "trusted_proxies",
        "alertmanager_urls",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cost_columns")
    @classmethod
    def _cost_columns(cls, value: str) -> str:
        parse_columns(value)  # raises with a one-line message naming the bad entry
        return value

    @field_validator("slack_base_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # slack_sdk joins method names onto the base URL and needs the slash.
        return value if value.endswith("/") else value + "/"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR") from None
        return value

    @field_validator("redis_namespace", "flag_prefix")
    @classmethod
    def _prefix_shape(cls, value: str) -> str:
        if not value or any(c.isspace() for c in value):
            raise ValueError("must be non-empty and contain no whitespace")
        return value

    @model_validator(mode="after")
    def _read_secret_files(self) -> Settings:
        for name in _SECRETS:
            path: Path | None = getattr(self, f"{name}_file")
            if getattr(self, name) is None and path is not None:
                try:
                    text = path.read_text().strip()
                except OSError as exc:
                    raise ValueError(f"{name}_file: cannot read {path}: {exc.strerror}") from None
                if not text:
                    raise ValueError(f"{name}_file: {path} is empty")
                setattr(self, name, SecretStr(text))
        if self.claim_idle <= 0:
            raise ValueError("claim_idle must be positive")
        return self

    @cached_property
    def playbook_paths(self) -> list[Path]:
        """Directories scanned for playbooks, built-in first."""
        paths = [Path(p) for p in self.playbook_dirs]
        builtin = builtin_playbook_dir() if self.builtin_playbooks else None
        return [builtin, *paths] if builtin else paths
