"""`adgen feedback ingest`, `adgen feedback refresh`, `adgen select`, `adgen simulate --direct`
on the embedded SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from shared.config import get_settings
from shared.db.engine import dispose_engines, session_scope
from shared.db.migrate import upgrade
from shared.feedback import simulate
from workers.cli.main import app


def test_ingest_refresh_select_and_simulate(adgen_env: dict[str, str], tmp_path: Path) -> None:
    url = get_settings().resolved_database_url
    upgrade(url)
    with session_scope(url) as s:
        ids = simulate.install(simulate.make_world(2, 3), session=s, campaign="camp")
    at = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    lines = [
        json.dumps(
            {
                "id": f"i{k}",
                "kind": "impression",
                "impression_id": f"i{k}",
                "creative_id": ids[k % 3],
                "campaign": "camp",
                "size": "300x250",
                "segment": "sporty",
                "occurred_at": at,
                "selection_probability": 0.3,
            }
        )
        for k in range(9)
    ]
    lines += ["{broken", lines[0]]
    src = tmp_path / "feedback.jsonl"
    src.write_text("\n".join(lines) + "\n")
    runner = CliRunner()
    out = runner.invoke(app, ["feedback", "ingest", str(src)])
    assert out.exit_code == 2, out.output  # one line was rejected
    assert "stored 9, duplicates 1, rejected 1" in out.output and "malformed" in out.output
    out = runner.invoke(app, ["feedback", "refresh", "--no-retire"])
    assert out.exit_code == 0 and '"rolled_up": 9' in out.output, out.output
    out = runner.invoke(
        app,
        ["select", "--campaign", "camp", "--size", "300x250", "--segment", "sporty", "--seed", "1"],
    )
    pick = json.loads(out.output)
    assert pick["creative_id"] in ids and 0 < pick["selection_probability"] <= 1
    out = runner.invoke(
        app, ["select", "--campaign", "nope", "--size", "300x250", "--segment", "sporty"]
    )
    assert out.exit_code == 1
    out = runner.invoke(
        app,
        [
            "simulate",
            "--direct",
            "--impressions",
            "1000",
            "--round-size",
            "500",
            "--policy",
            "thompson_quality",
        ],
    )
    assert out.exit_code == 0 and "thompson_quality" in out.output, out.output
    dispose_engines()
