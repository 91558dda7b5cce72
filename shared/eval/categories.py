"""Lenient mapping from an event's free-text product category to a catalog category."""

from __future__ import annotations

import re

# Words shops use -> the catalog's category names (docs/data.md). Checked word by word.
SYNONYMS: dict[str, str] = {
    "apparel": "clothing and accessories",
    "clothing": "clothing and accessories",
    "clothes": "clothing and accessories",
    "fashion": "clothing and accessories",
    "accessories": "clothing and accessories",
    "accessory": "clothing and accessories",
    "hats": "clothing and accessories",
    "caps": "clothing and accessories",
    "footwear": "shoes",
    "sneakers": "shoes",
    "boots": "shoes",
    "shoe": "shoes",
    "bag": "bags",
    "handbags": "bags",
    "luggage": "bags",
    "backpacks": "bags",
    "jewelry": "jewellery",
    "jewellery": "jewellery",
    "watches": "jewellery",
    "watch": "jewellery",
    "rings": "jewellery",
    "beauty": "cosmetics",
    "makeup": "cosmetics",
    "make-up": "cosmetics",
    "cosmetic": "cosmetics",
    "skincare": "cosmetics",
    "food": "food and drink",
    "drink": "food and drink",
    "drinks": "food and drink",
    "beverages": "food and drink",
    "beverage": "food and drink",
    "grocery": "food and drink",
    "groceries": "food and drink",
    "coffee": "food and drink",
    "snacks": "food and drink",
    "home": "household",
    "kitchen": "household",
    "garden": "household",
    "furniture": "household",
    "homeware": "household",
    "sports": "sport",
    "fitness": "sport",
    "outdoor": "sport",
    "outdoors": "sport",
    "stationery": "office",
    "school": "office",
    "books": "office",
    "tech": "electronics",
    "computers": "electronics",
    "phones": "electronics",
    "gadgets": "electronics",
    "audio": "electronics",
    "electronic": "electronics",
    "games": "toys",
    "toy": "toys",
    "kids": "toys",
    "hobby": "toys",
    "music": "toys",
    "hardware": "tools",
    "diy": "tools",
    "tool": "tools",
}


def map_category(name: str, known: list[str]) -> str | None:
    """Exact (case-insensitive) match, then any word of ``name`` that is a known category or a
    synonym of one; None when nothing fits (the caller skips the metric)."""
    lowered = name.strip().lower()
    by_lower = {k.lower(): k for k in known}
    if lowered in by_lower:
        return by_lower[lowered]
    for word in re.findall(r"[a-z][a-z-]*", lowered):
        if word in by_lower:
            return by_lower[word]
        target = SYNONYMS.get(word)
        if target is not None and target in by_lower:
            return by_lower[target]
    for k_lower, k in by_lower.items():  # "clothing & shoes" -> first category it names
        if k_lower.split()[0] in lowered:
            return k
    return None
