"""Centre callbacks (``POST /webhooks/{centre}``), and the filing service's holder.

A centre with webhooks (MEDIATION ``caseNo``, LITIGATION ``caseNumber``,
GOVERNANCE ``eventNo``) calls the gateway back when a matter changes, and the
subscribers of that matter are woken. Each callback is signed as Stripe and
GitHub sign theirs, with a secret shared with that centre alone
(``[centres.<centre>] webhook_secret``)::

    X-OneDoor-Signature: t=<unix seconds>,v1=<64 hex digits>
    v1 = hex(HMAC-SHA256(secret, f"{t}." + raw body))

One choke point, in this order, before anything is parsed or anybody woken:

    unknown centre                    404 WEBHOOK_UNKNOWN_CENTRE
    no or malformed signature header  401 WEBHOOK_SIGNATURE_MISSING
    no v1 matches (or no secret)      401 WEBHOOK_SIGNATURE_INVALID
    t more than 300 s from now        401 WEBHOOK_TIMESTAMP_STALE
    centre over its token bucket      429 WEBHOOK_RATE_LIMITED (Retry-After)
    signed body names no matter       400 WEBHOOK_BAD_REQUEST
    otherwise                         202 {"accepted": true}

The answer never says whether anybody follows the matter. A callback already
seen within the window (same signature: a replay, or a centre's retry of the
very same request) is answered 202 and wakes nobody. The bucket counts only
authenticated callbacks, so forged ones cannot use up a centre's allowance.
The body is trusted for nothing but the id: subscribers re-read the record.

>>> sign(b"0123456789abcdef", b'{"caseNo": "TJ1"}', 1733122800)
't=1733122800,v1=97f2ef34261fa144124a4512e6d7faa00d9bc8f9a11be439f80e1f388987c85b'
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import time
from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors.settings import ConnectorsSettings, WebhookCentreSettings
from onedoor.model import Centre
from services.filing import FilingService, webhook_matter_id

__all__ = ["SIGNATURE_HEADER", "TOLERANCE_SECONDS", "FilingHolder", "TokenBucket", "Webhooks",
           "sign"]

log = logging.getLogger("onedoor.webhooks")
SIGNATURE_HEADER = "X-OneDoor-Signature"
TOLERANCE_SECONDS = 300
_MAX_HEADER = 1024  # a few v1 entries (a centre rotating its secret signs with both)
_MAX_SIGNATURES = 4
Clock = Callable[[], float]


class FilingHolder:
    """The filing service once its store is open; requests read it at request time."""

    def __init__(self, service: FilingService | None = None) -> None:
        self.service = service


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-OneDoor-Signature`` value a centre sends with ``body`` at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, body, timestamp)}"


def _digest(secret: bytes, body: bytes, timestamp: int) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _parse(header: str | None) -> tuple[int, list[str]] | None:
    """``(t, [v1, …])`` from the header, or ``None`` if it is absent or malformed."""
    if header is None or len(header) > _MAX_HEADER:
        return None
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures or len(signatures) > _MAX_SIGNATURES:
        return None
    return timestamp, signatures


class TokenBucket:
    """``rate`` callbacks a second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is due."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class Webhooks:
    """The ``/webhooks/{centre}`` endpoint: verify, limit, de-duplicate, then wake.

    ``secrets`` maps a centre to its shared secret; a centre without one has every
    callback refused. ``rate``/``burst``: each centre's token bucket (per process).
    """

    def __init__(self, secrets: Mapping[Centre, bytes], filing: FilingHolder, *,
                 tolerance: int = TOLERANCE_SECONDS, rate: float = 20.0, burst: int = 100,
                 clock: Clock = time.time) -> None:
        self._secrets = dict(secrets)
        self._filing = filing
        self._tolerance = tolerance
        self.clock = clock  # tests move it to replay a callback later
        self.buckets = {c: TokenBucket(rate, burst) for c in Centre}
        self._seen: dict[str, float] = {}  # digest → when it leaves the window
        # Told of every accepted callback too (the projection's feeder re-reads the record).
        self.listeners: list[Callable[[Centre, str], object]] = []

    @classmethod
    def from_settings(cls, centres: ConnectorsSettings, filing: FilingHolder) -> Webhooks:
        secrets: dict[Centre, bytes] = {}
        for centre in Centre:
            section = centres.for_centre(centre)
            if not isinstance(section, WebhookCentreSettings):
                continue  # no webhooks: the gateway polls it
            if section.webhook_secret is None:
                log.warning("no webhook_secret for %s: its callbacks are refused", centre.value)
                continue
            secrets[centre] = section.webhook_secret.get_secret_value().encode()
        return cls(secrets, filing)

    async def receive(self, request: Request) -> JSONResponse:
        try:
            centre = self._centre(request.path_params["centre"])
            body = await request.body()
            digest = self._verify(centre, request.headers.get(SIGNATURE_HEADER), body)
            if self._seen_before(digest):
                return _accepted()  # a replay, or a retry of what was already delivered
            if (wait := self.buckets[centre].take()) > 0:
                raise _Refused(429, "WEBHOOK_RATE_LIMITED", "too many callbacks from this centre",
                               {"Retry-After": str(max(1, math.ceil(wait)))})
            native_id = _matter_id(centre, body)
        except _Refused as refused:
            if refused.status != 404:
                log.info("webhook refused: %s %s", request.path_params["centre"], refused.code)
            return JSONResponse(
                {"errors": [{"message": refused.message, "extensions": {"code": refused.code}}]},
                status_code=refused.status, headers=refused.headers)
        # Remembered only once accepted: a centre retrying a refused call is not ignored.
        self._remember(digest)
        service = self._filing.service
        if service is not None:
            service.updates.publish(centre, native_id)  # how many it woke is never told
        for listener in self.listeners:
            listener(centre, native_id)
        return _accepted()

    def _centre(self, name: str) -> Centre:
        try:
            return Centre[name.upper()]
        except KeyError:
            raise _Refused(404, "WEBHOOK_UNKNOWN_CENTRE", "no such centre") from None

    def _verify(self, centre: Centre, header: str | None, body: bytes) -> str:
        """The matching digest of a callback the centre signed within the window."""
        parsed = _parse(header)
        if parsed is None:
            raise _Refused(401, "WEBHOOK_SIGNATURE_MISSING",
                           f"{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex> is required",
                           _CHALLENGE)
        timestamp, given = parsed
        secret = self._secrets.get(centre)
        # A centre without a secret still costs one HMAC, so timing says nothing of config.
        expected = _digest(secret or b"\0", body, timestamp)
        matched = False
        for candidate in given:
            matched |= hmac.compare_digest(candidate.encode(), expected.encode())
        if secret is None or not matched:
            raise _Refused(401, "WEBHOOK_SIGNATURE_INVALID", "the signature does not match",
                           _CHALLENGE)
        if abs(self.clock() - timestamp) > self._tolerance:
            raise _Refused(401, "WEBHOOK_TIMESTAMP_STALE",
                           f"the signature is more than {self._tolerance} s old or ahead",
                           _CHALLENGE)
        return f"{centre.value}:{expected}"

    def _seen_before(self, digest: str) -> bool:
        now = self.clock()
        while self._seen:  # oldest first: every entry lives the same time
            oldest = next(iter(self._seen))
            if self._seen[oldest] > now:
                break
            del self._seen[oldest]
        return digest in self._seen

    def _remember(self, digest: str) -> None:
        # Kept for 2 × tolerance: t may be up to the tolerance ahead of now.
        self._seen[digest] = self.clock() + 2 * self._tolerance


_CHALLENGE = {"WWW-Authenticate": f'HMAC-SHA256 header="{SIGNATURE_HEADER}"'}


def _accepted() -> JSONResponse:
    return JSONResponse({"accepted": True}, status_code=202)


def _matter_id(centre: Centre, body: bytes) -> str:
    try:
        native_id = webhook_matter_id(centre, json.loads(body))
    except ValueError:
        native_id = None
    if native_id is None:
        raise _Refused(400, "WEBHOOK_BAD_REQUEST", "the callback names no matter")
    return native_id
