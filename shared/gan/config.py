"""GAN hyper-parameters: one dataclass, saved beside the weights as config.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path


@dataclass
class GANConfig:
    image_size: int = 64  # 64 or 128 (any 4 * 2**k works)
    z_dim: int = 100
    text_dim: int = 384  # all-MiniLM-L6-v2 sentence embedding
    # The encoder returns unit vectors (entries ~0.05) while z has unit-variance entries; scaling
    # the text by sqrt(text_dim) gives both the same per-entry scale inside G and D.  Without it
    # the first default run learnt shapes but ignored the text entirely.
    text_scale: float = 19.6
    ngf: int = 16  # generator base width
    ndf: int = 16  # discriminator base width
    # Width multipliers from the 4x4 stage upwards / from full resolution downwards; extra
    # entries are used for 128px, missing ones repeat the last.  Halving the width at each
    # doubling keeps every stage at the same cost, which is what makes CPU training feasible.
    g_mults: tuple[int, ...] = (16, 8, 4, 2, 1, 1)
    d_mults: tuple[int, ...] = (1, 2, 4, 8, 16, 16)
    cond_hidden: int = 128  # hidden width of the affine-prediction MLPs
    # Optimisation (DF-GAN: Adam betas (0, 0.9), D faster than G; G's rate doubled from
    # DF-GAN's 1e-4 because a CPU run is ~100x shorter than the paper's).
    lr_g: float = 2e-4
    lr_d: float = 4e-4
    betas: tuple[float, float] = (0.0, 0.9)
    batch_size: int = 32
    steps: int = 5000
    ma_gp_k: float = 2.0  # matching-aware gradient penalty weight (DF-GAN)
    ma_gp_p: float = 6.0  # ... and power
    mismatch_weight: float = 0.5  # D hinge term on real images with the wrong text
    colour_negative_prob: float = 0.5  # share of mismatches that only swap the colour word
    ema_beta: float = 0.999
    diffaugment: str = "color,translation,cutout"
    # Discriminator design (docs/gan.md): "dfgan" (today's matching-aware D; configs saved
    # before this field existed load as it), "projected" (frozen EfficientNet-Lite0 features +
    # per-scale heads) or "hybrid" (both; G is trained against their sum).
    d_arch: str = "dfgan"
    proj_size: int = 128  # upsampled to this before Lite0 (64 px: weak semantics)
    proj_taps: tuple[int, ...] = (2, 4, 10, 15)  # Lite0 blocks read: 24/40/112/320 channels
    proj_mix: int = 64  # channels after the frozen random cross-channel mixing
    proj_head: int = 64  # width of each per-scale head
    proj_uncond: bool = True  # unconditional logit beside the sentence projection
    proj_weight: float = 1.0  # weight of the projected branch in the hybrid's losses
    mode_seeking: float = 0.0  # MSGAN term weight (0: off); costs half a G forward per step
    # Weight of a G term pulling the mean chroma of each fake's product pixels to that of the
    # real training picture of the same caption (losses.colour_match_loss; 0: off).  The
    # matching-aware D teaches colour too, but slowly: the per-picture hue arm had 19% of its
    # colours right after 1,200 steps (docs/gan.md).
    colour_loss: float = 0.0
    # Weight of a second G pass per step on captions "<colour> <product>" for random products
    # and palette colours, with losses.colour_word_loss (0: off): the pairs no catalog picture
    # shows, which the terms above never see.  Costs one more G forward and backward per step.
    colour_word_loss: float = 0.0
    # The colour-word pass also asks for augment.SHADES (black, white, brown): words no hue
    # rotation of a catalog picture makes, so only this pass can teach them.  Off in models
    # trained before shades existed, so their runs resume unchanged.
    colour_word_shades: bool = False
    # Which pixels the colour terms count as the product: "level" (every pixel not near white,
    # as every model before session 13 was trained) or "enclosed" (every pixel but the
    # near-white ground connected to the border: a white product's own white fill counts, and
    # the white word no longer lifts its dark outline; shared/imaging_ground.py, docs/gan.md).
    colour_ground: str = "level"
    # Generator design: "dfgan" (text and noise only) or "exemplar" (shared/gan/exemplars.py:
    # a retrieved catalog picture's grey map and silhouette enter every resolution).  The bank
    # sizes are set when the bank is built from the training catalog and saved here, so the
    # buffers can be rebuilt before the weights are loaded.
    g_arch: str = "dfgan"
    exemplar_size: int = 32  # side of the stored maps (uint8): 2 x 32 x 32 bytes per picture
    # What each stored picture keeps: "grey" (luminance + silhouette: the shape only, the text
    # paints everything) or "rgb" (the picture itself on white: G re-colours and varies it).
    exemplar_map: str = "grey"
    # With "rgb" maps: G outputs a per-pixel gain and offset applied to the (warped) picture,
    # starting as an exact copy of it, instead of drawing the RGB from scratch.
    exemplar_residual: bool = False
    # With "rgb" maps: G re-colours the (warped) picture, and can do nothing else: a hue
    # rotation about the grey axis, a saturation gain in [1/2, 2] and a gamma on the grey
    # (shared/gan/recolour.py), starting as an exact copy, either per pixel ("pixel") or one
    # setting for the whole picture ("global", as the catalog's own recolours are made).
    # White ground and black outlines stay, so the drawing's structure cannot be repainted
    # (the free residual above lost kind accuracy exactly that way while it learnt colour).
    # "colourise": one setting per picture that can also paint the whole product in one colour
    # and tint its grey parts (multi-coloured and grey drawings cannot reach a colour by a
    # rotation); pair it with ``colour_loss``.
    exemplar_hue: str = "off"
    # How far the re-colour output can darken or lighten (log2 of the largest gamma on the
    # grey) and desaturate (least saturation gain).  At 0.7 and 0.5, the values every model
    # before session 11 was trained with, only ~12% of the catalog's pictures can read as black
    # or white at all; wider ranges let the colour-word pass ask for them (docs/gan.md).
    exemplar_gamma_range: float = 0.7
    exemplar_sat_floor: float = 0.5
    # How the re-colour output lightens: "gamma" (as every model before session 13) or
    # "lights" (the light greys move towards white, the dark ones stay: a white product keeps
    # its outline; shared/gan/recolour.py) or "rim" (as "lights", and the product's rim goes
    # dark as the rest goes light: an outline for drawings that have none). Darkening is the
    # gamma in every case.
    exemplar_lift: str = "gamma"
    exemplar_per_concept: int = 6  # pictures kept per product (styles, placements, recolours)
    exemplar_warp: float = 1.0  # strength of the noise-driven affine warp (0: none)
    exemplar_rows: int = 0
    exemplar_pictures: int = 0
    exemplar_concepts: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.g_mults = tuple(self.g_mults)
        self.d_mults = tuple(self.d_mults)
        self.proj_taps = tuple(self.proj_taps)
        if self.d_arch not in ("dfgan", "projected", "hybrid"):
            raise ValueError(f"d_arch must be dfgan, projected or hybrid, got {self.d_arch!r}")
        if self.exemplar_lift not in ("gamma", "lights", "rim"):
            raise ValueError(
                f"exemplar_lift must be gamma, lights or rim, got {self.exemplar_lift!r}"
            )
        if self.colour_ground not in ("level", "enclosed"):
            raise ValueError(f"colour_ground must be level or enclosed, got {self.colour_ground!r}")
        if self.exemplar_map not in ("grey", "rgb"):
            raise ValueError(f"exemplar_map must be grey or rgb, got {self.exemplar_map!r}")
        if self.exemplar_residual and self.exemplar_map != "rgb":
            raise ValueError("exemplar_residual needs exemplar_map rgb")
        if isinstance(self.exemplar_hue, bool):  # first written as a flag (per-pixel or off)
            self.exemplar_hue = "pixel" if self.exemplar_hue else "off"
        if self.exemplar_hue not in ("off", "pixel", "global", "colourise"):
            raise ValueError(
                f"exemplar_hue must be off, pixel, global or colourise, got {self.exemplar_hue!r}"
            )
        if not (0.0 < self.exemplar_sat_floor <= 1.0 and self.exemplar_gamma_range >= 0.0):
            raise ValueError("exemplar_sat_floor must be in (0, 1], exemplar_gamma_range >= 0")
        if self.exemplar_hue != "off" and (self.exemplar_map != "rgb" or self.exemplar_residual):
            raise ValueError("exemplar_hue needs exemplar_map rgb and no exemplar_residual")
        if self.g_arch not in ("dfgan", "exemplar"):
            raise ValueError(f"g_arch must be dfgan or exemplar, got {self.g_arch!r}")
        self.betas = (float(self.betas[0]), float(self.betas[1]))
        n = self.image_size
        while n > 4 and n % 2 == 0:
            n //= 2
        if n != 4:
            raise ValueError(f"image_size must be 4 * 2**k, got {self.image_size}")

    @property
    def guide_channels(self) -> int:
        """Channels of the exemplar map fed to G (0 without exemplars)."""
        if self.g_arch != "exemplar":
            return 0
        return 3 if self.exemplar_map == "rgb" else 2

    @property
    def n_up(self) -> int:
        return (self.image_size // 4).bit_length() - 1

    def g_channels(self) -> list[int]:
        """Channel widths at 4x4, 8x8, ..., image_size."""
        m = list(self.g_mults) + [self.g_mults[-1]] * (self.n_up + 1)
        return [self.ngf * k for k in m[: self.n_up + 1]]

    def d_channels(self) -> list[int]:
        """Channel widths at image_size, image_size/2, ..., 4x4."""
        m = list(self.d_mults) + [self.d_mults[-1]] * (self.n_up + 1)
        return [self.ndf * k for k in m[: self.n_up + 1]]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GANConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown GANConfig fields: {sorted(unknown)}")
        return cls(**data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> GANConfig:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))
