"""Errors raised by connectors. Foreign exceptions (httpx, XML, JSON) are
translated at the connector boundary; nothing from a backend's body or URL is
carried into the message a client sees.

    CentreError                      code (stable), centre, http_status
    ├── CentreUnavailable            CENTRE_UNAVAILABLE   refused / dropped / 5xx / breaker open
    ├── CentreTimeout                CENTRE_TIMEOUT       the call exceeded its budget
    ├── CentreBadResponse            CENTRE_BAD_RESPONSE  unparseable or contract-violating payload
    └── CentreThrottled              CENTRE_THROTTLED     429 after the retries the budget allowed
"""

from __future__ import annotations

from typing import ClassVar

from onedoor.centres import CENTRES
from onedoor.model import Centre

__all__ = [
    "CentreBadResponse",
    "CentreError",
    "CentreThrottled",
    "CentreTimeout",
    "CentreUnavailable",
]



class CentreError(Exception):
    code: ClassVar[str] = "CENTRE_ERROR"
    # What happened, in each language; the message names the centre in both.
    summary: ClassVar[tuple[str, str]] = ("暂时无法获取", "could not be read")

    def __init__(self, centre: Centre, *, http_status: int | None = None, detail: str = "") -> None:
        self.centre = centre
        self.http_status = http_status
        # ``detail`` is for logs only (already free of personal data); never sent to clients.
        self.detail = detail
        super().__init__(self.public_message)

    @property
    def public_message(self) -> str:
        info = CENTRES[self.centre]
        zh, en = self.summary
        return f"{info.name_zh}{zh} / the {info.name_en} {en} ({self.centre.value})"


class CentreUnavailable(CentreError):
    code = "CENTRE_UNAVAILABLE"
    summary = ("暂时无法访问", "is unavailable")


class CentreTimeout(CentreError):
    code = "CENTRE_TIMEOUT"
    summary = ("响应超时", "did not answer in time")


class CentreBadResponse(CentreError):
    code = "CENTRE_BAD_RESPONSE"
    summary = ("返回了无法识别的数据", "returned an unreadable response")


class CentreThrottled(CentreError):
    code = "CENTRE_THROTTLED"
    summary = ("请求过于频繁，请稍后再试", "is throttling requests; try again later")
