"""The tasks models are made for, found by name: ``get_task(card.task).run(image, model)``.

Detection (``"detect"``, a catalogue), surface-brightness restoration (``"restore"``, a
sky map) and deblending (``"deblend"``, two galaxies' components) are built in; each task is a :class:`~.base.Task`
(simulated training pairs, networks, losses, post-processing, metrics, baseline, result kind).
Looking a task up is cheap: the tasks import torch and the simulator only when used.
"""

from __future__ import annotations

from ...core.errors import DecorasError
from .base import RunOutput, Task
from .deblend import DeblendTask
from .detect import DetectTask
from .restore import RestoreTask

__all__ = ["DEFAULT_TASK", "RunOutput", "Task", "get_task", "register", "task_names", "tasks"]

#: the task of a model card that names none (every card before tasks existed was a detection model)
DEFAULT_TASK = "detect"

_TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Make ``task`` findable by its name (replacing a task of the same name); returns it."""
    if not task.name or not task.networks or not task.result_kind:
        raise ValueError(f"{task!r}: a task needs a name, its networks and a result kind")
    _TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """The task called ``name``; a DecorasError naming the known ones otherwise."""
    try:
        return _TASKS[name]
    except (KeyError, TypeError):
        raise DecorasError(f"unknown task {name!r} (known: {', '.join(task_names()) or 'none'})") from None


def task_names() -> list[str]:
    """Names of the registered tasks, in registration order."""
    return list(_TASKS)


def tasks() -> list[Task]:
    """The registered tasks, in registration order."""
    return list(_TASKS.values())


register(DetectTask())
register(RestoreTask())
register(DeblendTask())
