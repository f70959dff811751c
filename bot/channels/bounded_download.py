"""Fetching a file a user sent by its temporary URL, never holding more than the size cap.

Zalo hands an inbound image (and the OA a file) as a URL that expires; both Zalo clients fetch
it at once, streamed, and stop at the first byte over the cap — a bomb or an oversize file costs
at most the cap in memory and is refused the same way as one declared too large.
"""

from __future__ import annotations

import logging

import httpx

log = logging.getLogger(__name__)


async def bounded_download(
    http: httpx.AsyncClient, url: str, max_bytes: int, who: str
) -> bytes | None:
    """The body at `url`, or None when it is over `max_bytes`, gone or unreachable."""
    try:
        async with http.stream("GET", url) as reply:
            if reply.status_code != 200:
                return None
            content = bytearray()
            async for chunk in reply.aiter_bytes():
                content.extend(chunk)
                if len(content) > max_bytes:
                    return None
            return bytes(content)
    except httpx.HTTPError as exc:
        log.warning("%s download failed error=%s", who, type(exc).__name__)
        return None
