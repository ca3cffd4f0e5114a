"""The documented production config validates, and means what it says."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "onedoor.production.toml"


def test_production_example_validates() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.mode == "production"
    assert not settings.introspection and not settings.field_suggestions
    assert settings.auth.reject_anonymous
    assert all(i.issuer.startswith("https://") for i in settings.auth.issuers)
    assert settings.audit.url.startswith("postgresql://")
    assert settings.audit.retention_days >= 3 * 365
    assert settings.logging.format == "json"
    assert settings.telemetry.metrics and settings.telemetry.metrics_path == "/metrics"
    assert settings.centres.petitions.policy.timeouts is not None


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEDOOR_AUDIT__URL", "postgresql://onedoor:s3cret@db:5432/onedoor")
    monkeypatch.setenv("ONEDOOR_CENTRES__MEDIATION__API_KEY", "k-123")
    settings = load_settings(EXAMPLE)
    assert settings.audit.url.endswith("@db:5432/onedoor")
    assert settings.centres.mediation.api_key.get_secret_value() == "k-123"
    assert "k-123" not in repr(settings)


@pytest.mark.parametrize(("section", "key"), [("logging", "colour"), ("telemetry", "exporter")])
def test_unknown_telemetry_keys_are_named(tmp_path: Path, section: str, key: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text().replace(f"[{section}]\n", f"[{section}]\n{key} = 1\n"))
    with pytest.raises(ConfigError, match=f"{section}.{key}"):
        load_settings(bad)
