from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from shared.db.engine import get_engine
from shared.db.migrate import upgrade


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with Session(get_engine(db_url)) as s:
        yield s
