"""Ad composition: generated product image(s) + copy -> a creative of the placement's size."""

from shared.compose.draw import compose_creative, compose_with_layout
from shared.compose.fonts import MissingFontError
from shared.compose.layouts import Layout, build_layout

__all__ = ["Layout", "MissingFontError", "build_layout", "compose_creative", "compose_with_layout"]
