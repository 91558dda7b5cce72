"""The one typed settings object. Every process reads configuration through `get_settings()`.

Embedded defaults (no servers): SQLite, a local-directory object store and a filesystem broker,
all under `ADGEN_HOME`. Point `ADGEN_BROKER_URL`, `ADGEN_DATABASE_URL` and `ADGEN_STORAGE_URL` at
RabbitMQ/Redis, Postgres and MinIO/S3 to run the same code against real services.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = REPO_ROOT / "models" / "default"

# Secrets that ship in docs and images; refused outside embedded mode.
WELL_KNOWN_SECRETS = frozenset({"minioadmin", "guest", "changeme", "password", "postgres"})


class Settings(BaseSettings):
    # hide_input_in_errors: a rejected URL would otherwise be echoed whole, password included.
    model_config = SettingsConfigDict(
        env_prefix="ADGEN_", extra="ignore", hide_input_in_errors=True
    )

    home: Path = Field(default=Path.home() / ".adgen", description="Embedded state lives here")
    broker_url: str | None = Field(default=None, description="Celery broker; default: filesystem")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite")
    storage_url: str | None = Field(
        default=None, description="s3://KEY:SECRET@host:port/bucket or file:///path"
    )
    storage_secure: bool = Field(default=False, description="Use HTTPS for s3:// storage")
    model_dir: Path | None = Field(default=None, description="GAN checkpoint directory")
    evaluator_dir: Path | None = Field(default=None, description="Evaluator checkpoint directory")
    devices: str = Field(default="cpu", description="cpu | all | comma-separated CUDA indices")
    device: str = Field(default="cpu", description="This process's torch device (set per worker)")
    worker_name: str = Field(default="", description="Set by the launcher for each worker")

    max_creatives_per_event: int = Field(default=16, ge=1, le=256)
    max_event_bytes: int = Field(default=64 * 1024, ge=1024)
    rejected_payload_bytes: int = Field(default=8 * 1024, ge=256)
    max_attempts: int = Field(default=3, ge=1, le=20)
    task_soft_time_limit: int = Field(default=300, ge=1)
    task_time_limit: int = Field(default=360, ge=2)
    retry_backoff_max: int = Field(default=60, ge=1)
    presign_expiry_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    allow_default_secrets: bool = Field(
        default=False, description="Permit well-known secrets in non-embedded URLs (dev only)"
    )

    event_hmac_key: SecretStr | None = Field(
        default=None, description="If set, events must carry a valid HMAC-SHA256 signature"
    )
    broker_heartbeat_s: int = Field(
        default=30, ge=0, le=600, description="AMQP heartbeat; hung workers drop after ~2x"
    )
    worker_key: SecretStr | None = Field(
        default=None,
        description="Shared by generate and render workers: seals the render "
        "hand-off (HMAC). Required with ADGEN_RENDER_QUEUE outside embedded mode; embedded "
        "mode keeps one in ADGEN_HOME/worker.key",
    )
    task_max_retries: int = Field(
        default=8, ge=0, le=100, description="Retries of transient errors per delivery"
    )

    # --- worker operations (batching, concurrency, metrics, logs) ---
    worker_concurrency: int = Field(
        default=8, ge=1, le=512, description="Events in flight per worker process (threads)"
    )
    worker_prefetch_multiplier: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Unacked messages a worker holds per event thread (Celery's prefetch "
        "multiplier). Messages are still acked one by one after their outcome is recorded; "
        "more only buys fewer broker round trips on a backlog, which bench/broker_cost.py "
        "measured at no clear CPU gain, while held messages wait behind busy threads instead "
        "of going to an idle worker",
    )
    batch_max_size: int = Field(
        default=64, ge=1, le=4096, description="Most images in one generator forward pass"
    )
    batch_max_wait_ms: float = Field(
        default=20.0, ge=0, le=5000, description="Longest a request waits for a batch to fill"
    )
    score_batch_max_size: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="Most images in one scoring forward pass "
        "(evaluator + discriminator), shared across events; 1 = each event alone",
    )
    db_batch_max_size: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="Most events in one database transaction: finished events written "
        "together (group commit), and deliveries claimed together; 1 = one transaction per event",
    )
    db_batch_max_wait_ms: float = Field(
        default=25.0,
        ge=0,
        le=1000,
        description="Longest a claim or a finished event waits for other events in flight to "
        "join its transaction; never waits when no other event is in flight (0 = never)",
    )
    bundle_max_events: int = Field(
        default=64,
        ge=1,
        le=4096,
        description="Most events one bundle message may carry (publish_bundle, adgen publish "
        "--bundle); a larger bundle is refused whole and recorded",
    )
    metrics_port: int = Field(
        default=9200, ge=0, le=65535, description="Prometheus port of the first worker (0 = off)"
    )
    log_json: bool = Field(default=False, description="JSON log lines (for log shippers)")
    render_queue: bool = Field(
        default=False,
        description="Device workers hand images to CPU render workers "
        "(queue adgen.render) instead of rendering in-process",
    )
    worker_role: str = Field(
        default="generate",
        pattern="^(generate|render)$",
        description="Set by the launcher for each worker process",
    )
    creative_format: str = Field(
        default="png",
        pattern="^(png|webp|jpeg)$",
        description="Format creatives are stored in; recorded in content_type and the object "
        "key's extension (see shared/encoding.py for the measured costs)",
    )
    creative_quality: int = Field(
        default=85, ge=1, le=100, description="Quality of webp and jpeg creatives"
    )
    png_encoder: str = Field(
        default="fast",
        pattern="^(fast|zlib)$",
        description="fast = fpng (~15x less CPU, ~15% larger, same pixels); zlib = Pillow at "
        "png_compress_level",
    )
    compose_cache_mb: int = Field(
        default=64,
        ge=0,
        le=65536,
        description="Memory for the static layers of creatives "
        "(background, decoration, text) drawn once per layout and theme; 0 = off",
    )
    task_events: bool = Field(
        default=False,
        description="Celery task events (task-sent/received/started/succeeded) for Flower; "
        "they cost the worker CPU on every task (bench/celery_overhead.py), so off by default",
    )
    device_tiles: bool = Field(
        default=True,
        description="Scale product tiles as batched tensor ops on the generator's device "
        "(shared/compose/upscale.py; same look as Pillow's, ~50 dB apart); off = Pillow at "
        "composition",
    )
    png_compress_level: int = Field(
        default=3,
        ge=0,
        le=9,
        description="zlib level for creatives (3: ~2x faster than 6, "
        "a few % larger); used with png_encoder=zlib",
    )
    torch_threads: int = Field(
        default=0, ge=0, le=256, description="Intra-op threads per worker (0 = torch default)"
    )
    inference_dtype: str = Field(
        default="auto",
        pattern="^(auto|float32|bfloat16)$",
        description="auto = bfloat16 autocast on CUDA, float32 on CPU",
    )

    # --- review web app (`adgen web`) ---
    web_secret: SecretStr | None = Field(
        default=None,
        description="Signs session cookies (32+ chars). Embedded mode: generated "
        "once into ADGEN_HOME/web_secret; otherwise required",
    )
    web_cookie_secure: bool = Field(
        default=False, description="Session cookie only over HTTPS (behind TLS)"
    )
    web_session_max_age_s: int = Field(default=8 * 3600, ge=60, le=30 * 24 * 3600)
    web_login_max_failures: int = Field(
        default=5, ge=1, le=1000, description="Failed logins per user or client address per window"
    )
    web_login_window_s: int = Field(default=300, ge=1, le=86400)
    web_page_size: int = Field(default=48, ge=1, le=500, description="Creatives per queue page")

    # --- product photos from the shop's catalog (shared/photos) ---
    photo_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest catalog photo file accepted (bytes)"
    )
    photo_max_pixels: int = Field(
        default=25_000_000,
        ge=4096,
        le=89_478_485,  # Pillow's own
        description="Largest photo (width x height), checked from the header before decoding",
    )
    photo_max_side: int = Field(
        default=1024, ge=64, le=8192, description="Photos are decoded and cut out at most this big"
    )

    @field_validator("database_url")
    @classmethod
    def _normalise_db_url(cls, v: str | None) -> str | None:
        # psycopg 3 is the driver; accept the plain forms people paste.
        if v is None:
            return v
        for prefix in ("postgres://", "postgresql://"):
            if v.startswith(prefix):
                return "postgresql+psycopg://" + v[len(prefix) :]
        return v

    @field_validator("storage_url")
    @classmethod
    def _check_storage_url(cls, v: str | None) -> str | None:
        if v is not None and urlsplit(v).scheme not in ("s3", "file"):
            raise ValueError(
                "ADGEN_STORAGE_URL must be s3://KEY:SECRET@host:port/bucket or file:///"
            )
        return v

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.allow_default_secrets:
            return self
        for name in ("broker_url", "database_url", "storage_url"):
            url = getattr(self, name)
            if not url:
                continue
            parts = urlsplit(url)
            host = parts.hostname or ""
            local = host in ("", "localhost", "127.0.0.1", "::1")
            if parts.password in WELL_KNOWN_SECRETS and not local:
                raise ValueError(
                    f"{name} uses a well-known default secret for remote host {host!r}; "
                    "set a real one (or ADGEN_ALLOW_DEFAULT_SECRETS=1 for a dev box)"
                )
        return self

    @model_validator(mode="after")
    def _check_web_secret(self) -> Settings:
        secret = self.web_secret.get_secret_value() if self.web_secret else None
        if secret is None or self.allow_default_secrets or self.embedded:
            return self
        if secret in WELL_KNOWN_SECRETS or len(secret) < 32:
            raise ValueError(
                "web_secret must be 32+ characters and not a well-known value "
                "outside embedded mode (or ADGEN_ALLOW_DEFAULT_SECRETS=1 for a dev "
                "box)"
            )
        return self

    def __repr_args__(self):  # type: ignore[no-untyped-def]
        # Settings get logged; never their secrets.
        from shared.storage import redact_url

        for name, value in super().__repr_args__():
            if isinstance(value, str) and "://" in value:
                value = redact_url(value)
            yield name, value

    # Resolved values: embedded defaults when a URL is not given.
    @property
    def embedded(self) -> bool:
        return not (self.broker_url or self.database_url or self.storage_url)

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'adgen.sqlite3'}"

    @property
    def resolved_storage_url(self) -> str:
        return self.storage_url or (self.home / "objects").as_uri()

    @property
    def resolved_broker_url(self) -> str:
        return self.broker_url or "filesystem://"

    @property
    def broker_folder(self) -> Path:
        return self.home / "broker"

    @property
    def resolved_model_dir(self) -> Path:
        return self.model_dir or DEFAULT_MODEL_DIR

    @property
    def resolved_evaluator_dir(self) -> Path:
        return self.evaluator_dir or (REPO_ROOT / "models" / "evaluator")

    # --- evaluation (quality gate) ---
    # Thresholds for shared/eval/scorer.py; a negative value switches that check off.
    gate_min_alignment: float = Field(
        default=0.2, le=1, description="Calibrated text-image alignment (0..1) below: not servable"
    )
    gate_min_realism: float = Field(
        default=-1, le=1, description="Discriminator realism (0..1) below: not servable; <0 off"
    )
    gate_min_category_confidence: float = Field(
        default=-1, le=1, description="Evaluator confidence in the product's category; <0 off"
    )
    gate_max_duplicate_similarity: float = Field(
        default=0.98, description="Feature cosine to another variant above: near-duplicate"
    )
    gate_min_product_std: float = Field(
        default=4.0, description="Pixel std (0..255) of a product image below: blank"
    )

    # --- online feedback loop (shared/feedback/, docs/feedback.md) ---
    feedback_max_batch: int = Field(
        default=2000, ge=1, le=100_000, description="Most feedback events in one delivery"
    )
    feedback_max_message_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest feedback delivery accepted"
    )
    feedback_future_skew_s: float = Field(
        default=300, ge=0, description="Timestamps further ahead are rejected"
    )
    feedback_max_age_days: float = Field(
        default=30, gt=0, description="Timestamps older than this are rejected"
    )
    feedback_attribution_window_h: float = Field(
        default=168, gt=0, description="A conversion counts when it follows its click within this"
    )
    feedback_policy: str = Field(
        default="thompson_quality",
        pattern="^(uniform|thompson_flat|thompson_quality)$",
        description="Serving plan policy",
    )
    feedback_exploration: float = Field(
        default=0.05, ge=0, le=1, description="Traffic share spread uniformly over creatives"
    )
    feedback_prior_ctr: float = Field(
        default=0.02, gt=0, lt=1, description="Prior CTR of a context before any feedback"
    )
    feedback_prior_rel_error: float = Field(
        default=0.5,
        gt=0,
        le=10,
        description="Relative error (1 sd) of the quality prior's mean; sets the prior strength",
    )
    feedback_prior_quality_slope: float = Field(
        default=1.0, ge=0, le=10, description="log-CTR change per unit of quality score"
    )
    feedback_mc_draws: int = Field(
        default=4000, ge=100, le=200_000, description="Monte Carlo draws for P(best)"
    )
    feedback_retire_p_best: float = Field(
        default=0.01, ge=0, lt=1, description="Retire below this probability of being best"
    )
    feedback_retire_min_impressions: int = Field(
        default=3000, ge=1, description="Evidence a creative needs before it may be retired"
    )
    feedback_retire_keep: int = Field(
        default=2, ge=1, description="Live creatives never retired below this many"
    )
    feedback_regenerate: bool = Field(
        default=True, description="Publish a regeneration event after retiring"
    )
    feedback_refresh_interval_s: float = Field(
        default=60, gt=0, description="Celery beat: serving plan refresh"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Tests and launchers that change ADGEN_* variables call this to re-read them."""
    get_settings.cache_clear()


def inherited_environment() -> dict[str, str]:
    """A copy of this process's environment, for a child process to start from (the worker
    launcher adds its device and role). Settings are read only through `get_settings()`; this
    module is the one place that touches the environment, so this copy lives here too."""
    return dict(os.environ)
