"""Campaign events: what the ad backend publishes. Versioned, bounded, strict.

Every string has a length bound, ids are restricted to characters that are safe in object keys
(no `/`, so a key can never escape its prefix), and unknown fields are refused rather than
silently dropped. `parse_event` turns any raw message into either an event or a `Rejection`.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from shared.config import get_settings
from shared.photos.keys import CatalogKey
from shared.placements import DEFAULT_SIZE, PLACEMENTS

SCHEMA_VERSION = 1
EventType = Literal["product_display", "cart", "recommendation", "brand"]
EVENT_TYPES: tuple[str, ...] = ("product_display", "cart", "recommendation", "brand")
Style = Literal["clean", "bold", "seasonal"]

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$"
Ident = Annotated[str, Field(pattern=ID_PATTERN)]


def _no_control_chars(v: str) -> str:
    if any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in v):
        raise ValueError("control characters are not allowed")
    return v.strip()


def _visible(v: str) -> bool:
    """Whether any character would draw something (letters, digits, marks, punctuation,
    symbols): not only spaces, zero-width and format characters."""
    return any(unicodedata.category(c)[0] not in "ZC" for c in v)


def _text(max_len: int, min_len: int = 1) -> Any:
    def check(v: str) -> str:
        v = _no_control_chars(v)
        if min_len and not _visible(v):  # checked after the strip: "   " is empty too
            raise ValueError("must not be empty (or only spaces and invisible characters)")
        return v

    return Annotated[str, Field(min_length=min_len, max_length=max_len), AfterValidator(check)]


def _check_size(v: str) -> str:
    if v not in PLACEMENTS:
        raise ValueError(f"unknown ad size {v!r}; known: {', '.join(PLACEMENTS)}")
    return v


AdSize = Annotated[str, AfterValidator(_check_size)]
HexColor = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Campaign(_Strict):
    id: Ident
    advertiser_id: Ident
    name: _text(200)  # type: ignore[valid-type]


class Product(_Strict):
    sku: Ident
    title: _text(200)  # type: ignore[valid-type]
    description: _text(2000, min_len=0) = ""  # type: ignore[valid-type]
    category: _text(64)  # type: ignore[valid-type]
    price: Decimal = Field(ge=0, le=10_000_000, max_digits=12, decimal_places=2)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    brand: _text(100, min_len=0) = ""  # type: ignore[valid-type]
    photo: CatalogKey | None = None  # the shop's photo, shown unaltered (shared/photos)

    @model_serializer(mode="wrap")
    def _omit_absent_photo(self, handler: Any) -> Any:
        # Events without photos keep the payload hash they had before the field existed.
        data = handler(self)
        if isinstance(data, dict) and data.get("photo") is None:
            data.pop("photo", None)
        return data


class Audience(_Strict):
    segment: _text(64)  # type: ignore[valid-type]
    interests: list[_text(50)] = Field(default_factory=list, max_length=20)  # type: ignore[valid-type]
    locale: str = Field(default="en-US", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class BrandKit(_Strict):
    name: _text(100)  # type: ignore[valid-type]
    primary_color: HexColor = "#1A1A2E"
    secondary_color: HexColor = "#F5F5F5"
    tagline: _text(120, min_len=0) = ""  # type: ignore[valid-type]


class CreativeSpec(_Strict):
    # strict: "5", 5.0 and true are not a count (JSON has integers for that)
    count: int = Field(default=1, ge=1, strict=True)
    sizes: list[AdSize] = Field(default_factory=lambda: [DEFAULT_SIZE], min_length=1)
    style: Style = "clean"
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)

    @field_validator("count")
    @classmethod
    def _bounded_count(cls, v: int) -> int:
        limit = get_settings().max_creatives_per_event
        if v > limit:
            raise ValueError(f"count {v} exceeds the configured maximum {limit}")
        return v

    @field_validator("sizes")
    @classmethod
    def _unique_sizes(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("sizes must be unique")
        return v


class CampaignEvent(_Strict):
    schema_version: Literal[1] = 1
    event_id: Ident
    type: EventType
    occurred_at: datetime
    campaign: Campaign
    products: list[Product] = Field(min_length=1, max_length=12)
    audience: Audience
    creative: CreativeSpec = Field(default_factory=CreativeSpec)
    brand: BrandKit | None = None

    @model_validator(mode="before")
    @classmethod
    def _single_product_alias(cls, data: Any) -> Any:
        # `product: {...}` is accepted as shorthand for `products: [{...}]`.
        if isinstance(data, dict) and "product" in data:
            if "products" in data:
                raise ValueError("give either 'product' or 'products', not both")
            data = {**data, "products": [data["product"]]}
            del data["product"]
        return data

    @model_validator(mode="after")
    def _type_rules(self) -> CampaignEvent:
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must include a timezone offset")
        if self.type == "product_display" and len(self.products) != 1:
            raise ValueError("product_display events carry exactly one product")
        if self.type == "brand" and self.brand is None:
            raise ValueError("brand events need a 'brand' kit (name, colours, tagline)")
        return self

    @property
    def product(self) -> Product:
        return self.products[0]

    @property
    def creative_count(self) -> int:
        """Creatives this event yields: each variant rendered in every requested size."""
        return self.creative.count * len(self.creative.sizes)

    def canonical_json(self) -> str:
        return _canonical(self.model_dump(mode="json"))

    def payload_hash(self) -> str:
        """Identity of the payload, used to tell a redelivery from a conflicting reuse of an id."""
        return hash_payload(self.model_dump(mode="json"))


def _canonical(dump: dict[str, Any]) -> str:
    return json.dumps(dump, sort_keys=True, separators=(",", ":"))


def hash_payload(dump: dict[str, Any]) -> str:
    """`CampaignEvent.payload_hash` of an event's `model_dump(mode="json")` (for a caller that
    stores the dump too: the claim, which would otherwise serialise the event twice)."""
    return hashlib.sha256(_canonical(dump).encode()).hexdigest()


REASON_CHARS = 500  # a reason is one printable line of at most this many characters


def one_line(text: str, limit: int = REASON_CHARS) -> str:
    """``text`` as one printable line: every character that is not printable (newlines, NUL,
    format and separator characters) written as its escape, then capped at ``limit``
    characters. A reason quotes what the producer sent (field names, values), and it goes to
    a log line, a database text column (PostgreSQL refuses NUL) and a dead letter."""
    if len(text) > limit * 4:  # escapes at most quadruple a character: never escape megabytes
        text = text[: limit * 4]
    clean = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    if len(clean) <= limit:
        return clean
    return clean[: limit - 1] + "…"


class Rejection(BaseModel):
    """Why a raw message is not a valid event. `event_id` only when one could be read safely.
    The reason is always one printable line of at most `REASON_CHARS` characters."""

    reason: str
    event_id: str | None = None
    payload: str = ""

    @field_validator("reason")
    @classmethod
    def _one_line(cls, v: str) -> str:
        return one_line(v)


def _safe_event_id(data: Any) -> str | None:
    if isinstance(data, dict):
        eid = data.get("event_id")
        if isinstance(eid, str) and re.fullmatch(ID_PATTERN, eid):  # "$" would admit a final "\n"
            return eid
    return None


_ID_IN_JSON = re.compile(r'"event_id"\s*:\s*"([A-Za-z0-9][A-Za-z0-9_.:-]{0,127})"')


def peek_event_id(raw: Any) -> str | None:
    """The event id of a raw message without validating it (for log context and inspection).
    Only ids matching the schema's pattern are returned, so the result is safe to print."""
    if isinstance(raw, dict):
        return _safe_event_id(raw)
    if isinstance(raw, bytes):
        raw = raw[:4096].decode("utf-8", "replace")
    if isinstance(raw, str):
        m = _ID_IN_JSON.search(raw[:4096])
        return m.group(1) if m else None
    return None


def peek_event_ids(raw: Any, limit: int = 64) -> list[str]:
    """The event ids readable in a task's first argument: one for an event, each member's for
    a bundle (a JSON array of events, each as text, an object, or an object carrying it as
    "raw"); at most `limit`, unreadable ones left out. Same safety as `peek_event_id`."""
    members = raw if isinstance(raw, list) else [raw]
    ids = []
    for member in members[:limit]:
        if isinstance(member, dict) and "raw" in member and "event_id" not in member:
            member = member["raw"]
        eid = peek_event_id(member)
        if eid is not None:
            ids.append(eid)
    return ids


def _short_errors(err: ValidationError, limit: int = 5) -> str:
    parts = []
    for e in err.errors()[:limit]:
        loc = ".".join(str(x) for x in e["loc"]) or "(event)"
        parts.append(f"{loc}: {e['msg']}")
    more = len(err.errors()) - limit
    if more > 0:
        parts.append(f"... and {more} more")
    return "; ".join(parts)


def cap_payload(raw: str | bytes, max_bytes: int) -> str:
    """A printable, size-capped copy of a payload for the rejected-events record."""
    data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")
    text = data[:max_bytes].decode("utf-8", "replace").replace("\x00", "\\x00")
    return text + (f"…[{len(data) - max_bytes} bytes cut]" if len(data) > max_bytes else "")


def parse_event(raw: str | bytes | dict[str, Any]) -> CampaignEvent | Rejection:
    """Validate any raw message. Never raises for bad input: returns a Rejection with the reason."""
    settings = get_settings()
    cap = settings.rejected_payload_bytes
    if isinstance(raw, dict):  # a decoded JSON object (Celery's JSON serializer): same limits
        data: Any = raw
        try:
            whole = json.dumps(raw, default=str, ensure_ascii=False)
        except (TypeError, ValueError, RecursionError) as exc:
            return Rejection(
                reason=f"event object cannot be read: {type(exc).__name__}",
                event_id=_safe_event_id(raw),
                payload="(an object that cannot be written as JSON)",
            )
        size = len(whole.encode("utf-8", "surrogatepass"))
        if size > settings.max_event_bytes:
            return Rejection(
                reason=f"payload of {size} bytes exceeds the {settings.max_event_bytes}-byte limit",
                event_id=_safe_event_id(raw),
                payload=cap_payload(whole, cap),
            )
        text = whole[: cap * 2]
    else:
        size = len(raw)
        if size > settings.max_event_bytes:
            return Rejection(
                reason=f"payload of {size} bytes exceeds the {settings.max_event_bytes}-byte limit",
                event_id=peek_event_id(raw),
                payload=cap_payload(raw, cap),
            )
        if isinstance(raw, bytes):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return Rejection(
                    reason=f"payload is not UTF-8: {exc}",
                    event_id=peek_event_id(raw),
                    payload=cap_payload(raw, cap),
                )
        else:
            text = raw
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            return Rejection(
                reason=f"payload is not JSON: {exc}",
                event_id=peek_event_id(text),
                payload=cap_payload(text, cap),
            )
    if not isinstance(data, dict):
        return Rejection(reason="event must be a JSON object", payload=cap_payload(text, cap))
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        return Rejection(
            reason=f"unsupported schema_version {version!r} (this worker reads {SCHEMA_VERSION})",
            event_id=_safe_event_id(data),
            payload=cap_payload(text, cap),
        )
    try:
        return CampaignEvent.model_validate(data)
    except ValidationError as exc:
        return Rejection(
            reason=f"invalid event: {_short_errors(exc)}",
            event_id=_safe_event_id(data),
            payload=cap_payload(text, cap),
        )
    except (ValueError, TypeError, RecursionError) as exc:
        return Rejection(
            reason=f"invalid event: {exc}",
            event_id=_safe_event_id(data),
            payload=cap_payload(text, cap),
        )
