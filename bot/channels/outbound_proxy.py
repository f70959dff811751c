"""The outbound proxy every platform client goes through (government networks often require one).

HTTPS_PROXY (or https_proxy) names it, as for any other program on the machine; NO_PROXY lists
hosts reached directly (`*` for all, a name matches its subdomains, `.gov.vn` likewise). Each
client talks to one API root, so the choice is made once per client from that root's host —
the Telegram bots (PTB on aiohttp for the chat, on httpx for delivery) and the Zalo clients
(httpx) are all given the proxy explicitly and ignore the environment otherwise, so a
platform's traffic never takes one path for one request and another for the next.
"""

from __future__ import annotations

import urllib.parse
from typing import Any


def proxy_for(settings: Any, url: str) -> str | None:
    """The proxy to reach `url` through, or None (no proxy set, or the host is in NO_PROXY)."""
    proxy = (settings.https_proxy or "").strip()
    if not proxy:
        return None
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    return None if bypassed(host, settings.no_proxy or "") else proxy


def bypassed(host: str, no_proxy: str) -> bool:
    """Whether NO_PROXY sends `host` direct (curl's reading: `*`, names, `.domain`, ports)."""
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name = entry.lstrip(".")
        if name.startswith("[") and "]" in name:
            name = name[1 : name.index("]")]
        elif name.count(":") == 1:
            name = name.split(":", 1)[0]  # host:port: the port does not matter here
        if host == name or host.endswith("." + name):
            return True
    return False
