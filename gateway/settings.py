"""Gateway configuration: one TOML file plus ``ONEDOOR_*`` environment overrides.

Validated once at start (unknown keys rejected, with the key named in the
message), so a typo fails the boot rather than a request. Secrets come from the
environment (``ONEDOOR_CENTRES__MEDIATION__API_KEY=...``) or secret files, and are
``SecretStr`` so they never print.

Example::

    settings = load_settings(Path("onedoor.toml"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, FilePath, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from connectors.settings import ConnectorsSettings
from policy.auth.settings import AuthSettings, IssuerSettings

from .calendar_notices import NoticeError, read_notices
from .telemetry.config import LoggingSettings, TelemetrySettings

__all__ = [
    "AuditSettings",
    "AuthSettings",
    "CalendarSettings",
    "ConfigError",
    "GatewaySettings",
    "IssuerSettings",
    "LimitsSettings",
    "PersistedQueriesSettings",
    "ProjectionSettings",
    "SubmissionsSettings",
    "load_settings",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectionSettings(_Strict):
    """The analytic projection behind ``statistics``, ``overdue`` and ``escalations``
    (docs/operations.md, "Analytic projection"). ``url``: ``None`` = DuckDB in the state
    directory (embedded, columnar, no server, one process); ``sqlite:///…`` the embedded
    row store; ``postgresql://…?schema=…`` shared by replicas (let one process ``feed``,
    e.g. ``python -m gateway.projection``). The feeder has its own connector pools: at
    most ``max_concurrency`` centres resynced at once, ``centre_concurrency`` requests in
    flight per centre, each bounded by ``timeout_seconds``; a periodic resync of a centre
    already held reads at most ``resync_rate`` records a second. ``person_key`` keys the
    petitioner hash (repeat petitions); ``None``: a random key kept in the state directory."""

    enabled: bool = False
    url: str | None = None
    feed: bool = True
    poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    resync_seconds: float = Field(default=900.0, gt=0, le=7 * 86400)
    max_concurrency: int = Field(default=2, ge=1, le=5)
    centre_concurrency: int = Field(default=4, ge=1, le=100)
    timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    # Records a second read per centre by a periodic reconciliation (None: unpaced); the
    # first load of a centre is never paced. Bulkhead for CPU and the centres' capacity.
    resync_rate: float | None = Field(default=500.0, gt=0)
    person_key: SecretStr | None = Field(default=None, min_length=16)


class SubmissionsSettings(_Strict):
    """The durable record of filings (exactly-once). ``None``: SQLite beside the state
    directory; production: a PostgreSQL URL shared by every replica. Unfinished filings
    (a crash, a transfer whose source centre was down) are settled at start and then
    every ``reconcile_seconds`` by each process."""

    url: str | None = None
    reconcile_seconds: float = Field(default=30.0, gt=0, le=3600)
    # How replicas tell each other that a matter changed (a callback reached one of
    # them, a write went through one): None = in-process (one replica); redis:// or
    # postgresql:// for several (services.filing.broadcast).
    broadcast_url: str | None = None


class AuditSettings(_Strict):
    """The audit trail and its signed checkpoints (``services.audit.checkpoint``).

    ``signing_key``: an Ed25519 private key (PKCS#8 PEM) kept outside the audit
    database; in demo mode one is created in the state directory (0600) if unset,
    in production checkpoints need it configured. ``witness``: where the
    checkpoints are appended, somewhere the database's owner cannot write — a
    file or directory path (default: ``audit-witness.jsonl`` in the state
    directory) or a ``postgresql://…?schema=…`` URL of another database.
    The head is signed every ``checkpoint_seconds``, at start and at shutdown.
    """

    url: str = "sqlite:///.onedoor/audit.sqlite"
    retention_days: int = Field(default=3 * 365 + 1, ge=3 * 365)  # PIPL Art.56: ≥ 3 years
    signing_key: Path | None = None
    witness: str | None = None
    checkpoint_seconds: float = Field(default=60.0, gt=0, le=3600)

    def signing_key_path(self, state_dir: Path) -> Path:
        return self.signing_key or state_dir / "audit-signing-key.pem"

    def witness_location(self, state_dir: Path) -> str:
        return self.witness or str(state_dir / "audit-witness.jsonl")


class LimitsSettings(_Strict):
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_depth: int = Field(default=12, ge=2)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=50)
    max_root_fields: int = Field(default=10, ge=1)
    max_cost: int = Field(default=20000, ge=10)
    max_batch: int = Field(default=10, ge=1)
    # A request whose headers are not all in by then is closed (slowloris).
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # A backstop for every string argument and input field, above each field's own
    # limit (a description's 2,000, an address's 200), which names the field.
    max_string_chars: int = Field(default=10_000, ge=64)


class CalendarSettings(_Strict):
    """``notices``: a TOML file of State Council holiday notices newer than the installed
    ``chinese-calendar`` (gateway.calendar_notices); deadlines in a year with no notice
    are reported as unknown until one is added."""

    notices: FilePath | None = None


class PersistedQueriesSettings(_Strict):
    """Automatic persisted queries (Apollo APQ), and an optional safelist: an Apollo
    persisted query manifest outside which no operation runs (``gateway.persisted``)."""

    apq: bool = True
    apq_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)  # documents kept, in bytes
    safelist_manifest: FilePath | None = None


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        extra="forbid",
        frozen=True,
        env_prefix="ONEDOOR_",
        env_nested_delimiter="__",
        secrets_dir=None,
    )

    mode: Literal["demo", "production"] = "production"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    introspection: bool = False
    field_suggestions: bool = False
    # Serve as an Apollo Federation v2 subgraph (_service, _entities, @key) for a supergraph router.
    subgraph: bool = False
    state_dir: Path = Path(".onedoor")
    # Operators' listener: with a port, /metrics and /readyz answer only there
    # (bound to admin_host, loopback unless changed) and not on the public port.
    admin_port: int | None = Field(default=None, ge=1, le=65535)
    admin_host: str = "127.0.0.1"
    auth: AuthSettings = AuthSettings()
    audit: AuditSettings = AuditSettings()
    submissions: SubmissionsSettings = SubmissionsSettings()
    projection: ProjectionSettings = ProjectionSettings()
    limits: LimitsSettings = LimitsSettings()
    persisted_queries: PersistedQueriesSettings = PersistedQueriesSettings()
    calendar: CalendarSettings = CalendarSettings()
    logging: LoggingSettings = LoggingSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    centres: ConnectorsSettings

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then environment, then secret files, then TOML.
        toml = TomlConfigSettingsSource(settings_cls)
        return (init_settings, env_settings, file_secret_settings, toml)


class ConfigError(Exception):
    """A configuration problem, with every bad key named."""


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(root)"
        lines.append(f"  {key}: {err['msg']}")
    return "invalid configuration:\n" + "\n".join(lines)


def load_settings(path: Path | None = None, **overrides: Any) -> GatewaySettings:
    """Load and validate; raises :class:`ConfigError` naming each bad key."""
    if path is not None and not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    cls: type[GatewaySettings] = GatewaySettings
    if path is not None:
        cls = type(
            "GatewaySettingsFromFile",
            (GatewaySettings,),
            {"model_config": SettingsConfigDict(**{**GatewaySettings.model_config, "toml_file": path})},
        )
    try:
        settings = cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if settings.calendar.notices is not None:  # a notice file that will not load fails here, not later
        try:
            read_notices(settings.calendar.notices)
        except NoticeError as exc:
            raise ConfigError(str(exc)) from None
    return settings
