"""JSON structured logs (structlog), one line per event, with the request's
id, operation, pseudonymous principal, centre calls and timings.

No personal data: the gateway's own log events carry identifiers of *staff*
and of requests, never a resident ID, name, phone or address. A citizen's own
token has the resident ID as ``sub``; it is logged as an HMAC under a random
per-process key (``citizen:9f3a…``): an operator can correlate one person's
requests within a process's logs, but resident IDs are too few to hide behind
a plain hash, and the audit trail, not the log, is where identity belongs.
Standard-library loggers (uvicorn, ``onedoor.audit``…) are routed through the
same renderer so every line is JSON.

Example::

    configure_logging(LoggingSettings(format="json"))
    structlog.get_logger("onedoor.access").info("http.request", status=200)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from policy.principal import Principal

from .config import LoggingSettings

__all__ = ["configure_logging", "log_fields", "principal_label", "reset_logging"]

_HANDLER_NAME = "onedoor-structlog"
_PSEUDONYM_KEY = secrets.token_bytes(32)


def principal_label(principal: Principal | None) -> str:
    """Who asked, without personal data: staff ``sub`` / client id as-is, a
    citizen as a short hash, anonymous as ``anonymous``."""
    if principal is None or not principal.authenticated:
        return "anonymous"
    if principal.citizen_id is not None or principal.has("citizen:self"):
        digest = hmac.new(_PSEUDONYM_KEY, (principal.sub or "").encode(), hashlib.sha256).hexdigest()[:16]
        return f"citizen:{digest}"
    return principal.sub or f"client:{principal.client_id or '-'}"


def _renderer(fmt: str) -> Processor:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer(serializer=lambda obj, **kw: json.dumps(
        obj, ensure_ascii=False, default=str))


def configure_logging(settings: LoggingSettings, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library to one JSON handler on ``stream``
    (stderr by default). Idempotent: calling again replaces our handler."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _renderer(settings.format),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    for name in ("httpx", "httpcore"):
        # httpx logs every request's full URL at INFO: the centres' query strings hold resident IDs.
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error"):
        # uvicorn's own handlers would print the same events a second time, unformatted.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    # uvicorn's access line quotes the request target, query string included — and a
    # GET's variables hold resident IDs. ``access_log=False`` alone does not stop it
    # (uvicorn logs whenever the logger has handlers, and the root's count): this
    # logger gets none and stops propagating. Our own ``http.request`` line has the path only.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
    access.disabled = True


def reset_logging() -> None:
    """Undo :func:`configure_logging` (tests)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.setLevel(logging.WARNING)  # the standard library's default
    structlog.reset_defaults()


def log_fields(**fields: Any) -> dict[str, Any]:
    """Drops ``None`` values so lines stay short."""
    return {k: v for k, v in fields.items() if v is not None}
