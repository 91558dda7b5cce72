"""The feedback worker's Celery app: its task names (a rename is a deliberate change), queue,
beat schedule, and no pickles anywhere (JSON on the wire, an in-memory beat scheduler)."""

from __future__ import annotations

from shared.queues import FEEDBACK_QUEUE, INGEST_FEEDBACK_TASK, REFRESH_PLAN_TASK


def test_feedback_app_registers_its_tasks_queue_and_schedule(adgen_env: dict[str, str]) -> None:
    import workers.feedback_tasks  # noqa: F401 - registers the tasks
    from workers.app import app as generator_app
    from workers.feedback_app import app

    names = {n for n in app.tasks if n.startswith("adgen.")}
    assert {INGEST_FEEDBACK_TASK, REFRESH_PLAN_TASK} <= names
    # Not shared: the generator app never carries them (its own task list is pinned elsewhere).
    assert not {INGEST_FEEDBACK_TASK, REFRESH_PLAN_TASK} & set(generator_app.tasks)
    assert [q.name for q in app.conf.task_queues] == [FEEDBACK_QUEUE]
    assert app.conf.include == ["workers.feedback_tasks"]  # not the generator's tasks
    entry = app.conf.beat_schedule["refresh-serving-plan"]
    assert entry["task"] == REFRESH_PLAN_TASK and entry["schedule"] == 60
    assert app.conf.beat_scheduler == "celery.beat:Scheduler"  # no shelve (pickle) file
    assert app.conf.accept_content == ["json"] and app.conf.task_acks_late
