"""Connector configuration: where each centre lives and how hard to try.

Validated once at start-up (unknown keys are rejected) so a typo fails the
boot, not the first request. An ``all`` call policy applies to every centre;
each centre may override any part of it (as Apollo Router's traffic shaping).

Example::

    settings = ConnectorsSettings(
        all=CallPolicy(max_concurrency=20),
        mediation=MediationSettings(base_url="http://10.0.0.5:8101",
                                    api_key=SecretStr("..."),
                                    policy=PolicyOverride(timeouts=Timeouts(total=3))),
        ...)
    connectors = build_connectors(settings)
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from onedoor.model import Centre

__all__ = [
    "DEMO_API_KEY",
    "DEMO_LEGAL_CLIENT_ID",
    "DEMO_LEGAL_CLIENT_SECRET",
    "BreakerSettings",
    "CacheSettings",
    "CallPolicy",
    "CentreSettings",
    "ConnectorsSettings",
    "GovernanceSettings",
    "LegalSettings",
    "LitigationSettings",
    "MediationSettings",
    "PetitionsSettings",
    "PolicyOverride",
    "Retries",
    "Timeouts",
    "WebhookCentreSettings",
    "demo_settings",
    "demo_urls",
]

# Demo credentials published in sandbox/API.md; real deployments override them.
DEMO_API_KEY = "mediation-demo-key"
DEMO_LEGAL_CLIENT_ID = "onedoor-legal"
DEMO_LEGAL_CLIENT_SECRET = "legal-demo-secret"  # noqa: S105 - public sandbox demo secret
DEMO_LITIGATION_CLIENT_ID = "onedoor-gateway"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Timeouts(_Strict):
    """Seconds. ``total`` bounds one connector call including its retries."""

    connect: float = Field(default=2.0, gt=0)
    read: float = Field(default=5.0, gt=0)
    total: float = Field(default=8.0, gt=0)


class Retries(_Strict):
    """Retries apply to idempotent reads only; ``max_attempts`` counts the first try."""

    max_attempts: int = Field(default=3, ge=1, le=10)
    backoff_base: float = Field(default=0.1, ge=0)
    backoff_max: float = Field(default=2.0, ge=0)


class BreakerSettings(_Strict):
    """Opens after ``failure_threshold`` consecutive failed calls (unavailable or
    timed out); after ``reset_seconds`` one probe call may test the centre."""

    enabled: bool = True
    failure_threshold: int = Field(default=5, ge=1, le=1000)
    reset_seconds: float = Field(default=30.0, gt=0, le=3600)


class CallPolicy(_Strict):
    timeouts: Timeouts = Timeouts()
    max_concurrency: int = Field(default=10, ge=1, le=1000)
    retries: Retries = Retries()
    breaker: BreakerSettings = BreakerSettings()


class PolicyOverride(_Strict):
    """Per-centre overrides of the ``all`` policy; ``None`` inherits."""

    timeouts: Timeouts | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=1000)
    retries: Retries | None = None
    breaker: BreakerSettings | None = None

    def apply_to(self, base: CallPolicy) -> CallPolicy:
        return CallPolicy(
            timeouts=self.timeouts or base.timeouts,
            max_concurrency=self.max_concurrency or base.max_concurrency,
            retries=self.retries or base.retries,
            breaker=self.breaker or base.breaker,
        )


class CacheSettings(_Strict):
    """The shared record cache in front of every centre (``connectors.cache``).

    Records live at most ``ttl_seconds`` (less when a centre's ``Cache-Control``
    says so). ``redis_url`` adds a second level shared by gateway replicas; its
    timeouts are tight because a slow Redis must cost less than the centre call
    it saves. After a Redis failure it is left alone for ``redis_retry_seconds``.
    """

    enabled: bool = True
    ttl_seconds: float = Field(default=5.0, gt=0, le=3600)
    max_entries: int = Field(default=10_000, ge=1, le=10_000_000)
    redis_url: SecretStr | None = None  # may carry a password
    redis_key_prefix: str = Field(default="onedoor:", min_length=1)
    redis_connect_timeout: float = Field(default=0.2, gt=0, le=10)
    redis_timeout: float = Field(default=0.05, gt=0, le=10)
    redis_retry_seconds: float = Field(default=5.0, gt=0, le=3600)


class CentreSettings(_Strict):
    base_url: str = Field(min_length=1)
    policy: PolicyOverride = PolicyOverride()


class WebhookCentreSettings(CentreSettings):
    """A centre that calls the gateway back (``POST /webhooks/{centre}``). Each
    callback is signed with ``webhook_secret``, a secret shared with that centre
    alone (docs/operations.md, "Centre callbacks"); ``None``: every callback from
    it is refused."""

    webhook_secret: SecretStr | None = Field(default=None, min_length=16)


class MediationSettings(WebhookCentreSettings):
    api_key: SecretStr = SecretStr(DEMO_API_KEY)


class LegalSettings(CentreSettings):
    client_id: str = DEMO_LEGAL_CLIENT_ID
    client_secret: SecretStr = SecretStr(DEMO_LEGAL_CLIENT_SECRET)
    token_url: str = Field(min_length=1)
    scope: str = "legal.read legal.write"


class PetitionsSettings(CentreSettings):
    pass


class LitigationSettings(WebhookCentreSettings):
    client_id: str = DEMO_LITIGATION_CLIENT_ID  # sent as X-Client-Id


class GovernanceSettings(WebhookCentreSettings):
    graphql_path: str = "/graphql"


class ConnectorsSettings(_Strict):
    all: CallPolicy = CallPolicy()
    cache: CacheSettings = CacheSettings()
    mediation: MediationSettings
    legal_services: LegalSettings
    petitions: PetitionsSettings
    litigation: LitigationSettings
    governance: GovernanceSettings

    @model_validator(mode="after")
    def _urls_are_http(self) -> ConnectorsSettings:
        for centre in Centre:
            url = self.for_centre(centre).base_url
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{centre.value}: base_url must be http(s)")
        return self

    def for_centre(self, centre: Centre) -> CentreSettings:
        section: CentreSettings = getattr(self, centre.value.lower())
        return section

    def policy_for(self, centre: Centre) -> CallPolicy:
        return self.for_centre(centre).policy.apply_to(self.all)


def demo_settings(
    urls: Mapping[Centre, str],
    idp_url: str,
    *,
    policy: CallPolicy | None = None,
) -> ConnectorsSettings:
    """Settings for the sandbox: its URLs plus the demo credentials from API.md."""
    return ConnectorsSettings(
        all=policy or CallPolicy(),
        mediation=MediationSettings(base_url=urls[Centre.MEDIATION]),
        legal_services=LegalSettings(
            base_url=urls[Centre.LEGAL_SERVICES],
            token_url=idp_url.rstrip("/") + "/oauth/token",
        ),
        petitions=PetitionsSettings(base_url=urls[Centre.PETITIONS]),
        litigation=LitigationSettings(base_url=urls[Centre.LITIGATION]),
        governance=GovernanceSettings(base_url=urls[Centre.GOVERNANCE]),
    )


def demo_urls(base_port: int, host: str = "127.0.0.1") -> tuple[dict[Centre, str], str]:
    """The sandbox's demo layout: identity provider on ``base_port+100``, then
    the centres on ``+101`` … ``+105`` in :class:`Centre` order."""
    urls = {c: f"http://{host}:{base_port + 101 + i}" for i, c in enumerate(Centre)}
    return urls, f"http://{host}:{base_port + 100}"
