"""No pickle anywhere, signatures, and secrets kept out of reprs and logs."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from kombu.exceptions import ContentDisallowed
from kombu.serialization import dumps, loads, prepare_accept_content
from pydantic import ValidationError

from shared.config import Settings
from shared.signing import sign, verify
from shared.storage import StorageError, open_store, redact_url
from tests.support.services import free_port

REPO = Path(__file__).resolve().parents[2]
CODE = [p for d in ("shared", "workers", "bench", "migrations") for p in (REPO / d).rglob("*.py")]


def test_celery_app_refuses_pickle_content() -> None:
    from workers.app import app

    assert app.conf.accept_content == ["json"] and app.conf.task_serializer == "json"
    accept = prepare_accept_content(app.conf.accept_content)
    ctype, enc, body = dumps({"x": 1}, serializer="pickle")
    with pytest.raises(ContentDisallowed):
        loads(body, ctype, enc, accept=accept)
    ctype, enc, body = dumps({"x": 1}, serializer="json")
    assert loads(body, ctype, enc, accept=accept) == {"x": 1}


def test_no_pickle_or_unsafe_torch_load_in_our_code() -> None:
    offenders = []
    for path in CODE:
        text = path.read_text()
        if re.search(r"^\s*(import pickle|from pickle|import dill|import joblib)", text, re.M):
            offenders.append(f"{path}: pickle import")
        for m in re.finditer(r"torch\.load\(([^)]*)\)", text):
            if "weights_only=True" not in m.group(1):
                offenders.append(f"{path}: torch.load without weights_only=True")
    assert offenders == []
    assert pickle  # (this test file itself only uses pickle to build a hostile payload)


def test_hmac_signatures() -> None:
    body = '{"event_id":"e1"}'
    sig = sign(body, "k1")
    assert verify(body, sig, "k1") is None
    assert "not signed" in (verify(body, None, "k1") or "")
    assert "does not match" in (verify(body + " ", sig, "k1") or "")
    assert "does not match" in (verify(body, sig, "other") or "")


def test_settings_repr_hides_passwords(tmp_path: Path) -> None:
    s = Settings(
        home=tmp_path,
        broker_url="amqp://u:brokersecret@rabbit:5672//",
        database_url="postgresql://u:dbsecret@db/x",
        storage_url="s3://k:s3secret@minio:9000/b",
        event_hmac_key="hmacsecret",
    )
    text = repr(s) + str(s)
    for secret in ("brokersecret", "dbsecret", "s3secret", "hmacsecret"):
        assert secret not in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"storage_url": "http://key:pw-Secret1@h/b"},  # wrong scheme: the field validator
        {"broker_url": "amqp://guest:guest@rabbit.example:5672//"},  # the default-secret check
        {"storage_url": "s3://minioadmin:minioadmin@m.example/b", "worker_concurrency": "x"},
    ],
)
def test_settings_errors_never_echo_the_url(tmp_path: Path, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(home=tmp_path, **kwargs)
    text = str(info.value) + repr(info.value)
    for secret in ("pw-Secret1", "guest@", "minioadmin"):
        assert secret not in text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("amqp://u:p%40ss%3Aw@rabbit:5672/vh", "amqp://u:***@rabbit:5672/vh"),
        ("s3://key:se@cr:et@minio:9000/b", "s3://key:***@minio:9000/b"),
        ("postgresql+psycopg://adgen:pw@db/adgen", "postgresql+psycopg://adgen:***@db/adgen"),
        ("redis://:onlypw@redis:6379/0", "redis://:***@redis:6379/0"),
        ("postgresql://adgen@db/adgen", "postgresql://adgen@db/adgen"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_unreachable_s3_error_names_the_endpoint_not_the_secret() -> None:
    store = open_store(f"s3://key:s3-Secret-42@127.0.0.1:{free_port()}/bucket")
    with pytest.raises(StorageError) as info:
        store.put("a/b.png", b"x", "image/png")
    assert "S3 unreachable at 127.0.0.1" in str(info.value)
    assert "s3-Secret-42" not in str(info.value) + repr(info.value)
