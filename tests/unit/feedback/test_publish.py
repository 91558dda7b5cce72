"""Splitting feedback into deliveries: bounded, and an impression's click never overtakes it."""

from __future__ import annotations

import pytest

from shared.feedback.publish import InvalidFeedback, split_deliveries, to_wire


def _group(i: int, click: bool, conv: bool) -> list[dict[str, str]]:
    out = [{"kind": "impression", "impression_id": f"i{i}"}]
    if click:
        out.append({"kind": "click", "impression_id": f"i{i}"})
    if click and conv:
        out.append({"kind": "conversion", "impression_id": f"i{i}"})
    return out


@pytest.mark.parametrize("max_batch", [3, 4, 7, 10, 1000])
def test_deliveries_are_bounded_and_keep_groups_together(max_batch: int) -> None:
    events = [e for i in range(200) for e in _group(i, i % 3 == 0, i % 6 == 0)]
    deliveries = split_deliveries(events, max_batch)
    assert [e for d in deliveries for e in d] == events  # nothing lost, order kept
    assert all(0 < len(d) <= max_batch for d in deliveries)
    for d in deliveries:
        assert d[0]["kind"] == "impression"  # every group starts and ends in one delivery
    if max_batch == 1000:
        assert len(deliveries) == 1


def test_publisher_validates_before_sending() -> None:
    with pytest.raises(InvalidFeedback, match="event 0"):
        to_wire([{"kind": "impression"}])
