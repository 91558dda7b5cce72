"""Ad composition: generated product image(s) + copy -> a creative of the placement's size."""

from shared.compose.render import compose_creative

__all__ = ["compose_creative"]
