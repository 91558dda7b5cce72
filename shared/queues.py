"""Broker names and options shared by the publisher (ad backend side) and the workers."""

from __future__ import annotations

from typing import Any

from shared.config import Settings

GENERATE_QUEUE = "adgen.generate"
DEAD_QUEUE = "adgen.dead"
PROCESS_EVENT_TASK = "adgen.process_event"
# Several small events in one message: one broker round trip, claim and commit for all of them.
PROCESS_BUNDLE_TASK = "adgen.process_bundle"
RENDER_QUEUE = "adgen.render"  # CPU stage: compose, encode, upload, score, database
RENDER_TASK = "adgen.render_event"


def device_queue(worker_name: str) -> str:
    """Per-device queue so ops can target one device ("adgen.generate.gpu0")."""
    return f"{GENERATE_QUEUE}.{worker_name}"


def broker_transport_options(settings: Settings) -> dict[str, Any]:
    url = settings.resolved_broker_url
    if url.startswith("filesystem"):
        folder = settings.broker_folder
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),  # else kombu writes ./control
            "store_processed": False,
        }
    if url.startswith(("redis", "rediss")):
        # With acks_late an unacked message is redelivered after this; keep it above the hard
        # time limit so a slow but healthy task is not run twice.
        return {"visibility_timeout": settings.task_time_limit * 2}
    # AMQP: publisher confirms, so a returned publish means the broker has the message.
    return {"confirm_publish": True}


FEEDBACK_QUEUE = "adgen.feedback"  # impressions, clicks, conversions from the ad server
INGEST_FEEDBACK_TASK = "adgen.ingest_feedback"
REFRESH_PLAN_TASK = "adgen.refresh_plan"
