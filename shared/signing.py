"""Optional HMAC signatures on event bodies (the ad backend signs; workers verify).

With `ADGEN_EVENT_HMAC_KEY` set, the publisher attaches `hmac-sha256:<hex>` over the exact JSON
text it sends, and workers reject unsigned or tampered events. Keys are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "hmac-sha256:"


def sign(body: str, key: str) -> str:
    return (
        PREFIX
        + hmac.new(key.encode(), body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    )


def verify(body: str, signature: str | None, key: str) -> str | None:
    """None when the signature is valid; otherwise the reason it is not."""
    if not signature:
        return "event is not signed (signing is required on this deployment)"
    # compare_digest refuses non-ASCII text with a TypeError; such a signature cannot match.
    if not signature.isascii() or not hmac.compare_digest(sign(body, key), signature):
        return "event signature does not match its body (tampered or wrong key)"
    return None
