"""Best-effort removal of S3 content after a cascading delete has committed (spec §4.1)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web

from req1_server.storage import STORAGE

log = logging.getLogger("req1.cleanup")


async def delete_attachment_blobs(request: web.Request, keys: Sequence[str]) -> None:
    store = request.app.get(STORAGE)
    if store is None or not keys:
        return
    for key in keys:
        try:
            await store.delete(key)
        except Exception:
            log.warning("could not delete attachment content %s", key, exc_info=True)
