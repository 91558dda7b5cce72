"""Standard ad placements. Adding a placement is one entry in `PLACEMENTS`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Placement:
    name: str  # the id events use, e.g. "300x250"
    width: int
    height: int
    label: str

    @property
    def aspect(self) -> float:
        return self.width / self.height


PLACEMENTS: dict[str, Placement] = {
    p.name: p
    for p in (
        Placement("300x250", 300, 250, "Medium rectangle"),
        Placement("728x90", 728, 90, "Leaderboard"),
        Placement("160x600", 160, 600, "Wide skyscraper"),
        Placement("320x50", 320, 50, "Mobile banner"),
        Placement("1080x1080", 1080, 1080, "Social square"),
    )
}

DEFAULT_SIZE = "300x250"


def get_placement(name: str) -> Placement:
    try:
        return PLACEMENTS[name]
    except KeyError:
        raise ValueError(f"unknown ad size {name!r}; known: {', '.join(PLACEMENTS)}") from None
