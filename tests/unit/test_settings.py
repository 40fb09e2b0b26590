from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings


def test_defaults_run_without_anything_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AUTONOMIC_REDIS_URL", "AUTONOMIC_WEBHOOK_TOKEN", "AUTONOMIC_OPERATOR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.redis_url == "memory://"
    assert settings.webhook_token is None
    assert settings.playbook_paths[0].name in ("playbooks", "builtin_playbooks")


def test_file_variants_and_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "token").write_text("s3cret\n")
    monkeypatch.setenv("AUTONOMIC_WEBHOOK_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("AUTONOMIC_KUBE_NAMESPACES", "llm-app, llm-gateway")
    monkeypatch.setenv("AUTONOMIC_CLAIM_IDLE", "2m")
    settings = Settings()
    assert settings.webhook_token is not None
    assert settings.webhook_token.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    assert settings.kube_namespaces == ["llm-app", "llm-gateway"]
    assert settings.claim_idle == 120


def test_unreadable_secret_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_OPERATOR_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValidationError, match="operator_token_file: cannot read"):
        Settings()


def test_bad_duration_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_DEDUP_TTL", "forever")
    with pytest.raises(ValidationError, match="invalid duration"):
        Settings()


def test_bad_cost_column_mapping_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTONOMIC_COST_COLUMNS", "created_at=ts; drop table requests")
    with pytest.raises(ValidationError, match="invalid column name"):
        Settings()


def test_alertmanager_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "am-token").write_text("am-bearer-token\n")
    monkeypatch.setenv("AUTONOMIC_ALERTMANAGER_URLS", "http://am-0:9093/, https://am-1:9093")
    monkeypatch.setenv("AUTONOMIC_ALERTMANAGER_TOKEN_FILE", str(tmp_path / "am-token"))
    settings = Settings()
    assert settings.alertmanager_urls == ["http://am-0:9093", "https://am-1:9093"]
    assert settings.alertmanager_token is not None
    assert "am-bearer-token" in settings.secret_values()  # redacted wherever it could show
    assert settings.reconcile_seconds == 30
    monkeypatch.setenv("AUTONOMIC_RECONCILE_INTERVAL", "off")
    assert Settings().reconcile_seconds is None


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AUTONOMIC_RECONCILE_INTERVAL", "0s", "positive duration"),
        ("AUTONOMIC_RECONCILE_INTERVAL", "often", "invalid duration"),
        ("AUTONOMIC_ALERTMANAGER_URLS", "am-0:9093", "is not an http"),
    ],
)
def test_bad_alertmanager_settings_are_reported(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_priority_lane_mapping_is_a_validated_matcher(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().priority_high_match == 'severity=~"critical|page"'
    monkeypatch.setenv("AUTONOMIC_PRIORITY_HIGH_MATCH", 'severity=~"crit')
    with pytest.raises(ValidationError, match="priority_high_match"):
        Settings()
    monkeypatch.setenv("AUTONOMIC_PRIORITY_HIGH_MATCH", 'team="db"')
    monkeypatch.setenv("AUTONOMIC_PRIORITY_NORMAL_SHARE", "1")
    with pytest.raises(ValidationError, match="priority_normal_share"):
        Settings()
