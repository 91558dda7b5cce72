"""Shop photos through the real services: `adgen catalog upload` to SeaweedFS (S3), then events
that reference the photos, through RabbitMQ and a real worker, into S3 and Postgres."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from shared.config import get_settings
from shared.db.engine import session_scope
from shared.db.models import Creative, Event
from shared.photos.load import PhotoLimits
from shared.photos.upload import upload_photos
from shared.publisher import Publisher
from shared.samples import SAMPLE_PHOTO_NAME, photo_event, sample_events, sample_product_photo
from shared.storage import open_store
from tests.conftest import set_env
from tests.integration.conftest import wait_terminal
from tests.support.services import SeaweedS3, WorkerProcess
from tests.unit.photos import hostile
from workers.cli.main import app

pytestmark = pytest.mark.integration


def test_catalog_upload_to_s3(
    adgen_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, seaweed: SeaweedS3, tmp_path: Path
) -> None:
    set_env(monkeypatch, adgen_env, ADGEN_STORAGE_URL=seaweed.url(f"c{uuid.uuid4().hex[:12]}"))
    d = tmp_path / "shop"
    d.mkdir()
    (d / SAMPLE_PHOTO_NAME).write_bytes(sample_product_photo(360))
    (d / "bomb.png").write_bytes(hostile.png_claiming(50_000, 50_000))
    runner = CliRunner()
    result = runner.invoke(app, ["catalog", "upload", "--json", str(d)])
    assert result.exit_code == 2, result.output  # one file rejected
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(r["path"]).name: r for r in lines if "path" in r}
    assert "decompression bomb" in by_name["bomb.png"]["reason"]
    key = by_name[SAMPLE_PHOTO_NAME]["key"]
    assert key.startswith("catalog/") and key.endswith("/" + SAMPLE_PHOTO_NAME)
    assert lines[-1] == {"stored": 1, "rejected": 1}
    store = open_store(get_settings().resolved_storage_url)
    assert store.get(key) == (d / SAMPLE_PHOTO_NAME).read_bytes()
    again = runner.invoke(app, ["catalog", "upload", str(d / SAMPLE_PHOTO_NAME)])
    assert again.exit_code == 0 and again.stdout.startswith(key)
    assert "already stored" in again.stdout
    assert store.list("catalog/") == [key]


def test_photo_events_end_to_end(
    stack: dict[str, str], worker_factory: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    worker_factory(stack)
    s = get_settings()
    store = open_store(s.resolved_storage_url)
    store.ensure_bucket()
    (tmp_path / SAMPLE_PHOTO_NAME).write_bytes(sample_product_photo(360))
    (result,) = upload_photos(store, [tmp_path / SAMPLE_PHOTO_NAME], PhotoLimits())
    assert result.key is not None
    shown = photo_event("e2e", result.key, sizes=["300x250", "728x90"])
    cart = sample_events("e2e-cart")[2]
    cart = cart.model_copy(
        update={"products": [cart.product.model_copy(update={"photo": result.key})]}
    )
    missing = photo_event("e2e-missing", "catalog/ffff/nothing.jpg")
    pub = Publisher(s)
    for ev in (shown, cart, missing):
        pub.publish(ev)
    pub.close()

    statuses = wait_terminal(
        s.resolved_database_url, [shown.event_id, cart.event_id, missing.event_id]
    )
    assert statuses == {shown.event_id: "done", cart.event_id: "done", missing.event_id: "failed"}
    with session_scope(s.resolved_database_url) as sess:
        err = sess.get(Event, missing.event_id)
        assert err is not None and "no such photo in the catalog" in (err.last_error or "")
        rows = sess.execute(
            select(
                Creative.event_id, Creative.object_key, Creative.details, Creative.model_version_id
            )
        ).all()
    kinds = {(r.event_id, r.details["image_source"]) for r in rows}
    assert (shown.event_id, "photo") in kinds and (cart.event_id, "mixed") in kinds
    for r in rows:
        img = Image.open(io.BytesIO(store.get(r.object_key)))
        img.load()
        assert img.format == "PNG"
        if r.event_id == shown.event_id:
            assert r.model_version_id is None
            assert r.details["image_sources"][0]["sha256"] == result_sha(store, result.key)

    dsn = s.resolved_database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        by_source = dict(
            conn.execute(
                "SELECT image_source, count(*) FROM analytics.creatives GROUP BY 1"
            ).fetchall()
        )
        model_creatives = conn.execute(
            "SELECT coalesce(sum(creatives), 0) FROM analytics.model_summary"
        ).fetchone()
        photo_scores = conn.execute(
            "SELECT count(*) FROM analytics.scores WHERE image_source = 'photo' "
            "AND metric IN ('alignment', 'realism')"
        ).fetchone()
    assert by_source["photo"] == shown.creative_count
    assert by_source.get("mixed", 0) >= 1
    drawn = sum(1 for r in rows if r.details["image_source"] != "photo")
    assert drawn >= 1 and model_creatives == (drawn,)  # photo-only creatives are not the model's
    assert photo_scores == (0,)


def result_sha(store: object, key: str) -> str:
    import hashlib

    return hashlib.sha256(store.get(key)).hexdigest()  # type: ignore[attr-defined]
