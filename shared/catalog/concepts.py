"""Product concepts: which emoji are products, their category, and their captions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import emoji

EMOJI_TEST = Path("/usr/share/unicode/emoji/emoji-test.txt")
EMOJI_TEST_PACKAGE = "unicode-data"  # the Debian package that ships EMOJI_TEST


class MissingSystemData(RuntimeError):
    """A file the builder reads from the operating system is absent; the message says which
    package provides it and how to install it (one line, meant for a terminal)."""


# Unicode emoji subgroup -> product category.  Subgroups absent here are not products.
SUBGROUP_CATEGORY: dict[str, str] = {
    "clothing": "clothing and accessories",
    "food-fruit": "food and drink",
    "food-vegetable": "food and drink",
    "food-prepared": "food and drink",
    "food-asian": "food and drink",
    "food-marine": "food and drink",
    "food-sweet": "food and drink",
    "drink": "food and drink",
    "dishware": "household",
    "household": "household",
    "medical": "household",
    "other-object": "household",
    "phone": "electronics",
    "computer": "electronics",
    "light & video": "electronics",
    "sound": "electronics",
    "sport": "sport",
    "game": "toys",
    "event": "toys",
    "arts & crafts": "toys",
    "musical-instrument": "toys",
    "tool": "tools",
    "science": "tools",
    "office": "office",
    "writing": "office",
    "book-paper": "office",
}
# The "clothing" subgroup mixes several shop departments; split it by name.
NAME_CATEGORY: list[tuple[str, str]] = [
    (r"shoe|boot|sandal|flat shoe|heel", "shoes"),
    (r"bag|purse|pouch|backpack", "bags"),
    (r"ring|gem|necklace|crown|prayer beads", "jewellery"),
    (r"lipstick", "cosmetics"),
]
# Names that are not things one sells, even inside a product subgroup.
EXCLUDE = re.compile(
    r"muted|speaker low|speaker medium|bell with slash|no entry|"
    r"high voltage|jack-o-lantern|fireworks|sparkler|ticket$|admission"
)


@dataclass(frozen=True)
class Concept:
    char: str
    name: str
    category: str
    subgroup: str
    captions: tuple[str, ...]

    @property
    def codepoints(self) -> str:
        return "-".join(f"{ord(c):X}" for c in self.char)


def _phrase(text: str) -> str:
    text = text.strip(":").replace("_", " ").replace("\u2019", "'").lower()
    return re.sub(r"\s+", " ", text).strip()


def _captions(char: str, name: str) -> tuple[str, ...]:
    seen: list[str] = []
    data = emoji.EMOJI_DATA.get(char) or emoji.EMOJI_DATA.get(char.replace("\ufe0f", ""), {})
    for raw in [name, data.get("en", ""), *data.get("alias", [])]:
        phrase = _phrase(raw)
        if phrase and phrase not in seen:
            seen.append(phrase)
    return tuple(seen)


def _category(subgroup: str, name: str) -> str:
    category = SUBGROUP_CATEGORY[subgroup]
    if subgroup == "clothing":
        for pattern, named in NAME_CATEGORY:
            if re.search(pattern, name):
                return named
    return category


def require_emoji_test(emoji_test: Path | None = None) -> Path:
    path = emoji_test or EMOJI_TEST
    if not path.is_file():
        raise MissingSystemData(
            f"{path} not found: it comes with the Debian package {EMOJI_TEST_PACKAGE}; install it "
            f"with `sudo apt-get install -y {EMOJI_TEST_PACKAGE}` (scripts/setup.sh does this)"
        )
    return path


def load_concepts(emoji_test: Path | None = None) -> list[Concept]:
    """Fully-qualified, single-skin-tone product emoji in Unicode order."""
    emoji_test = require_emoji_test(emoji_test)
    concepts: list[Concept] = []
    subgroup = ""
    line_re = re.compile(r"^([0-9A-F ]+);\s*fully-qualified\s*#\s*\S+\s+E[\d.]+\s+(.+)$")
    for line in emoji_test.read_text(encoding="utf-8").splitlines():
        if line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
            continue
        match = line_re.match(line)
        if not match or subgroup not in SUBGROUP_CATEGORY:
            continue
        name = _phrase(match.group(2))
        if "skin tone" in name or EXCLUDE.search(name):
            continue
        char = "".join(chr(int(cp, 16)) for cp in match.group(1).split())
        concepts.append(
            Concept(char, name, _category(subgroup, name), subgroup, _captions(char, name))
        )
    return concepts
