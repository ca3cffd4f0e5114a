"""Security point 8: ``POST /webhooks/{centre}`` takes only callbacks the centre
signed (HMAC-SHA256 over ``t.body``, ``X-OneDoor-Signature``) within 300 s; a
refused call wakes nobody and so costs no centre read; the answer never says
whether anybody follows the matter; each centre's callbacks are rate limited.

The gateway runs over in-memory centres that count their calls, with a
subscriber following MEDIATION's ``TJ1``: every wake-up is one centre read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from connectors.base import Connector
from gateway.app import create_app
from gateway.demo import demo_settings_for
from gateway.middleware import InvalidToken
from gateway.settings import ConfigError, load_settings
from gateway.webhooks import TokenBucket, Webhooks, sign
from onedoor.model import Centre
from policy.principal import Principal
from sandbox.writes import signature as sandbox_signature
from services.audit import open_audit_store
from services.filing import fresh_read, open_submission_store
from tests.schema.fakes import FakeCentre, at, record
from tests.schema.test_query import READ_ALL

URLS = {c: f"http://127.0.0.1:{9101 + i}" for i, c in enumerate(Centre)}
SECRETS = {Centre.MEDIATION: "m" * 32, Centre.LITIGATION: "l" * 32, Centre.GOVERNANCE: "g" * 32}
CASEWORKER = Principal(sub="u", client_id="c", scopes=READ_ALL, regions=("6323",),
                       authenticated=True)
FOLLOWED = {"event": "case.status_changed", "caseNo": "TJ1", "statusCode": "XXTJ"}
NOBODY = {"event": "case.status_changed", "caseNo": "TJ-NOBODY", "statusCode": "XXTJ"}


def signed(body: Mapping[str, object], secret: str, t: int | None = None) -> tuple[bytes, str]:
    """A callback as API.md tells a centre to sign it (written here from the docs)."""
    raw = json.dumps(body).encode()
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return raw, f"t={t},v1={mac}"


@dataclass
class Gateway:
    http: httpx.AsyncClient
    app: Starlette
    centres: dict[Centre, FakeCentre]

    @property
    def webhooks(self) -> Webhooks:
        hooks = self.app.state.webhooks
        assert isinstance(hooks, Webhooks)
        return hooks

    def reads(self) -> int:
        return sum(sum(c.calls.values()) for c in self.centres.values())

    async def post(self, centre: str, raw: bytes, header: str | None) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if header is not None:
            headers["X-OneDoor-Signature"] = header
        return await self.http.post(f"/webhooks/{centre}", content=raw, headers=headers)

    async def reads_settle(self, before: int, expected: int) -> int:
        """Centre calls since ``before`` once the subscriber had time to react."""
        for _ in range(100):
            if self.reads() - before >= expected:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # and nothing more comes
        return self.reads() - before


@contextlib.asynccontextmanager
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    centres = {c: FakeCentre(c, []) for c in Centre}
    centres[Centre.MEDIATION].records.append(record(Centre.MEDIATION, "TJ1", at=at(1)))
    connectors: dict[Centre, Connector] = dict(centres)

    async def authenticate(token: str) -> Principal:
        if token != "good":
            raise InvalidToken("unknown")
        return CASEWORKER

    settings = demo_settings_for(URLS, "http://127.0.0.1:9100", tmp_path, 8000,
                                 webhook_secrets=SECRETS)
    audit = await open_audit_store(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    store = await open_submission_store(f"sqlite:///{tmp_path / 'submissions.sqlite'}")
    app = create_app(settings, connectors, authenticate, audit=audit, submissions=store,
                     close_connectors=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway") as http:
            yield Gateway(http, app, centres)
    finally:
        await store.aclose()
        await audit.aclose()


@contextlib.asynccontextmanager
async def following(gw: Gateway, centre: Centre, native_id: str) -> AsyncIterator[None]:
    """A subscriber as ``matterUpdates`` is one (schema/subscription.py): each wake-up
    re-reads the record from the centre. Held at the service, so that only the
    webhook stage is under test here (tests/e2e/test_matter_updates.py goes the
    whole way, over graphql-transport-ws)."""
    service = gw.app.state.filing.service
    assert service is not None
    watching = asyncio.Event()

    async def follow() -> None:
        async with service.updates.watch(centre, native_id) as changes:
            watching.set()
            while True:
                await changes.get()
                await fresh_read(gw.centres[centre], native_id)

    task = asyncio.create_task(follow())
    await watching.wait()
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def code(response: httpx.Response) -> str:
    value: str = response.json()["errors"][0]["extensions"]["code"]
    return value


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with gateway(tmp_path) as g:
        yield g


Forge = Callable[[bytes, str], str | None]  # (body, its good header) → the header sent


REFUSED = [
    pytest.param(lambda raw, hdr: None, "WEBHOOK_SIGNATURE_MISSING", id="unsigned"),
    pytest.param(lambda raw, hdr: "v1=" + hdr.split("v1=")[1], "WEBHOOK_SIGNATURE_MISSING",
                 id="no-timestamp"),
    pytest.param(lambda raw, hdr: signed(FOLLOWED, "x" * 32)[1], "WEBHOOK_SIGNATURE_INVALID",
                 id="wrong-secret"),
    pytest.param(lambda raw, hdr: hdr[:-4] + "0000", "WEBHOOK_SIGNATURE_INVALID",
                 id="tampered-signature"),
    pytest.param(lambda raw, hdr: signed(NOBODY, SECRETS[Centre.MEDIATION])[1],
                 "WEBHOOK_SIGNATURE_INVALID", id="signature-of-another-body"),
    pytest.param(lambda raw, hdr: signed(FOLLOWED, SECRETS[Centre.LITIGATION])[1],
                 "WEBHOOK_SIGNATURE_INVALID", id="another-centres-secret"),
    pytest.param(lambda raw, hdr: signed(FOLLOWED, SECRETS[Centre.MEDIATION],
                                         int(time.time()) - 301)[1],
                 "WEBHOOK_TIMESTAMP_STALE", id="stale"),
    pytest.param(lambda raw, hdr: signed(FOLLOWED, SECRETS[Centre.MEDIATION],
                                         int(time.time()) + 301)[1],
                 "WEBHOOK_TIMESTAMP_STALE", id="from-the-future"),
]


@pytest.mark.parametrize(("forge", "expected"), REFUSED)
async def test_a_refused_callback_is_401_and_costs_no_centre_read(
        gw: Gateway, forge: Forge, expected: str) -> None:
    raw, good = signed(FOLLOWED, SECRETS[Centre.MEDIATION])
    header = forge(raw, good)
    async with following(gw, Centre.MEDIATION, "TJ1"):
        before = gw.reads()
        response = await gw.post("mediation", raw, header)
        assert response.status_code == 401, response.text
        assert code(response) == expected
        assert "subscribers" not in response.text
        assert response.headers["www-authenticate"].startswith("HMAC-SHA256")
        assert await gw.reads_settle(before, 0) == 0  # nobody was woken
        # the same subscriber does wake for the genuine callback: one read
        assert (await gw.post("mediation", raw, good)).status_code == 202
        assert await gw.reads_settle(before, 1) == 1


async def test_a_replayed_callback_is_refused_once_its_time_is_past(gw: Gateway) -> None:
    raw, header = signed(FOLLOWED, SECRETS[Centre.MEDIATION])
    async with following(gw, Centre.MEDIATION, "TJ1"):
        before = gw.reads()
        assert (await gw.post("mediation", raw, header)).status_code == 202
        assert await gw.reads_settle(before, 1) == 1
        # The very same request again within the window: accepted, but nobody re-reads.
        again = await gw.post("mediation", raw, header)
        assert (again.status_code, again.json()) == (202, {"accepted": True})
        assert await gw.reads_settle(before, 1) == 1
        # Captured and sent six minutes later: its timestamp gives it away.
        real = gw.webhooks.clock
        gw.webhooks.clock = lambda: real() + 360
        late = await gw.post("mediation", raw, header)
        assert late.status_code == 401 and code(late) == "WEBHOOK_TIMESTAMP_STALE"
        assert await gw.reads_settle(before, 1) == 1


async def test_the_answer_never_says_whether_anybody_follows(gw: Gateway) -> None:
    async with following(gw, Centre.MEDIATION, "TJ1"):
        followed = await gw.post("mediation", *signed(FOLLOWED, SECRETS[Centre.MEDIATION]))
        nobody = await gw.post("mediation", *signed(NOBODY, SECRETS[Centre.MEDIATION]))
    assert followed.status_code == nobody.status_code == 202
    assert followed.content == nobody.content == b'{"accepted":true}'


async def test_each_centre_signs_with_its_own_secret(gw: Gateway) -> None:
    for centre, body in [(Centre.LITIGATION, {"type": "CASE_STATE_CHANGED", "caseNumber": "C1"}),
                         (Centre.GOVERNANCE, {"eventNo": "WG1", "status": "CLOSED"})]:
        response = await gw.post(centre.value.lower(), *signed(body, SECRETS[centre]))
        assert response.status_code == 202, response.text


async def test_the_sandbox_centres_sign_as_documented(gw: Gateway) -> None:
    raw = json.dumps(FOLLOWED).encode()
    header = sandbox_signature(SECRETS[Centre.MEDIATION], raw, int(time.time()))
    assert header == signed(FOLLOWED, SECRETS[Centre.MEDIATION], int(header[2:12]))[1]
    assert (await gw.post("mediation", raw, header)).status_code == 202


def test_the_documented_test_vector() -> None:
    vector = "t=1733122800,v1=97f2ef34261fa144124a4512e6d7faa00d9bc8f9a11be439f80e1f388987c85b"
    api = (Path(__file__).resolve().parents[2] / "sandbox" / "API.md").read_text()
    assert vector.split(",")[1] in api
    body = b'{"caseNo": "TJ1"}'
    assert sign(b"0123456789abcdef", body, 1733122800) == vector
    assert sandbox_signature("0123456789abcdef", body, 1733122800) == vector


async def test_a_centre_without_a_secret_or_webhooks_is_refused(gw: Gateway) -> None:
    raw, header = signed({"xfbh": "XF1"}, "p" * 32)
    response = await gw.post("petitions", raw, header)  # polled: no secret, no callbacks
    assert response.status_code == 401 and code(response) == "WEBHOOK_SIGNATURE_INVALID"
    unknown = await gw.post("elsewhere", raw, header)
    assert unknown.status_code == 404 and code(unknown) == "WEBHOOK_UNKNOWN_CENTRE"


async def test_a_signed_callback_naming_no_matter_is_400(gw: Gateway) -> None:
    for raw in (b"not json", b'{"caseNumber": "C1"}'):
        t = int(time.time())
        mac = hmac.new(SECRETS[Centre.MEDIATION].encode(), f"{t}.".encode() + raw,
                       hashlib.sha256).hexdigest()
        response = await gw.post("mediation", raw, f"t={t},v1={mac}")
        assert response.status_code == 400 and code(response) == "WEBHOOK_BAD_REQUEST"


async def test_callbacks_are_rate_limited_per_centre(gw: Gateway) -> None:
    gw.webhooks.buckets[Centre.MEDIATION] = TokenBucket(rate=0.01, burst=2)
    for _ in range(5):  # forged calls do not use up the centre's allowance
        assert (await gw.post("mediation", json.dumps(FOLLOWED).encode(), None)).status_code == 401
    answers = []
    for n in range(3):  # distinct callbacks (a duplicate would be answered without a token)
        body = {**FOLLOWED, "n": n}
        answers.append(await gw.post("mediation", *signed(body, SECRETS[Centre.MEDIATION])))
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert code(answers[2]) == "WEBHOOK_RATE_LIMITED"
    assert int(answers[2].headers["retry-after"]) >= 1
    other = await gw.post("litigation", *signed({"caseNumber": "C1"}, SECRETS[Centre.LITIGATION]))
    assert other.status_code == 202  # another centre has its own bucket


async def test_a_rate_limited_callback_is_not_remembered_as_delivered(gw: Gateway) -> None:
    """A centre retrying the very request that met 429 must be heard, not ignored."""
    gw.webhooks.buckets[Centre.MEDIATION] = TokenBucket(rate=0.01, burst=0)
    raw, header = signed(FOLLOWED, SECRETS[Centre.MEDIATION])
    async with following(gw, Centre.MEDIATION, "TJ1"):
        before = gw.reads()
        assert (await gw.post("mediation", raw, header)).status_code == 429
        gw.webhooks.buckets[Centre.MEDIATION] = TokenBucket(rate=1, burst=1)
        assert (await gw.post("mediation", raw, header)).status_code == 202
        assert await gw.reads_settle(before, 1) == 1


def test_the_secret_is_a_per_centre_setting_that_never_prints(
        monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).resolve().parents[2] / "docs" / "onedoor.production.toml"
    monkeypatch.setenv("ONEDOOR_CENTRES__LITIGATION__WEBHOOK_SECRET", "s" * 32)
    settings = load_settings(example)
    assert settings.centres.litigation.webhook_secret is not None
    assert settings.centres.litigation.webhook_secret.get_secret_value() == "s" * 32
    assert settings.centres.mediation.webhook_secret is None  # not configured: refused
    assert "s" * 32 not in repr(settings)
    monkeypatch.setenv("ONEDOOR_CENTRES__PETITIONS__WEBHOOK_SECRET", "s" * 32)  # polled centre
    with pytest.raises(ConfigError, match=r"centres\.petitions\.webhook_secret"):
        load_settings(example)
    monkeypatch.delenv("ONEDOOR_CENTRES__PETITIONS__WEBHOOK_SECRET")
    monkeypatch.setenv("ONEDOOR_CENTRES__MEDIATION__WEBHOOK_SECRET", "short")
    with pytest.raises(ConfigError, match=r"centres\.mediation\.webhook_secret"):
        load_settings(example)
