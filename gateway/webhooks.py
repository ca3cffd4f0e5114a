"""The gateway's side of centre callbacks, and the filing service's holder.

``POST /webhooks/{centre}`` takes a centre's own callback body (MEDIATION
``caseNo``, LITIGATION ``caseNumber``, GOVERNANCE ``eventNo``) and wakes the
subscribers of that matter. The body is trusted for nothing but the id:
subscribers re-read the record from the centre, so a forged callback costs
one read and cannot change what anybody sees.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse

from onedoor.model import Centre
from services.filing import FilingService, webhook_matter_id

__all__ = ["FilingHolder"]


class FilingHolder:
    """The filing service once its store is open; requests read it at request time."""

    def __init__(self, service: FilingService | None = None) -> None:
        self.service = service

    async def webhook(self, request: Request) -> JSONResponse:
        try:
            centre = Centre[request.path_params["centre"].upper()]
            body = json.loads(await request.body())
        except (KeyError, ValueError):
            return JSONResponse({"error": "unknown centre or invalid JSON"}, status_code=400)
        native_id = webhook_matter_id(centre, body)
        if native_id is None:
            return JSONResponse({"error": "no matter id in the callback"}, status_code=400)
        woken = self.service.updates.publish(centre, native_id) if self.service else 0
        return JSONResponse({"accepted": True, "subscribers": woken}, status_code=202)
