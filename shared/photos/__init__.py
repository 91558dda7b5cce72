"""The shop's own product photos: catalog keys, safe decoding, cut-out, and the pipeline seam.

Modules: `keys` (what an event may reference), `load` (bytes -> upright sRGB RGBA, or a
rejection), `cutout` (alpha, or a matte from a plain border), `fetch` (the one storage
adapter) and `resolve` (which image requests a photo satisfies instead of the GAN).
Nothing is imported here, so `shared.events` can use `keys` without pulling in the rest.
"""
