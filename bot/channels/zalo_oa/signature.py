"""`X-ZEvent-Signature`: "mac=" + sha256_hex(app_id + raw body + timestamp + OA secret key).

The timestamp is the body's own `timestamp` field (zalo.md §2 [K][F]); some senders omit the
`mac=` prefix, so it is optional. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac


def expected(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    raw = app_id.encode() + body + timestamp.encode() + secret.encode()
    return hashlib.sha256(raw).hexdigest()


def valid(header: str, app_id: str, body: bytes, timestamp: str, secret: str) -> bool:
    if not header or not secret:
        return False
    given = header.strip()
    given = given[4:] if given.lower().startswith("mac=") else given
    return hmac.compare_digest(
        given.lower().encode(), expected(app_id, body, timestamp, secret).encode()
    )
