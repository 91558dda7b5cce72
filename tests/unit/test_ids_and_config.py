from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.config import Settings
from shared.ids import creative_id, object_key, stable_seed


def test_creative_ids_are_deterministic_and_distinct() -> None:
    assert creative_id("e1", 0) == creative_id("e1", 0)
    assert len({creative_id("e1", i) for i in range(50)} | {creative_id("e2", 0)}) == 51


def test_stable_seed_range_and_stability() -> None:
    assert stable_seed("a", 1) == stable_seed("a", 1) != stable_seed("a", 2)
    assert 0 <= stable_seed("x") < 2**31


@pytest.mark.parametrize("bad", ["..", "a/b", "", "."])
def test_object_key_refuses_path_components(bad: str) -> None:
    with pytest.raises(ValueError):
        object_key("c", bad, "x")
    assert object_key("c", "e", "x") == "creatives/c/e/x.png"


def test_settings_normalise_postgres_url_and_embedded_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings(home=tmp_path, database_url="postgresql://u:p@db:5432/x")
    assert s.resolved_database_url.startswith("postgresql+psycopg://")
    e = Settings(home=tmp_path)
    assert e.embedded and e.resolved_database_url.startswith("sqlite:///")
    assert e.resolved_storage_url.startswith("file://")


def test_settings_refuse_default_secrets_for_remote_hosts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match="well-known default secret"):
        Settings(home=tmp_path, storage_url="s3://minioadmin:minioadmin@minio.prod:9000/b")
    Settings(home=tmp_path, storage_url="s3://minioadmin:minioadmin@127.0.0.1:9000/b")
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, storage_url="ftp://x")
