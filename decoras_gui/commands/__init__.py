"""One module per `decoras` sub-command; importing a module registers its command."""

from importlib import import_module

COMMAND_MODULES = ("info", "simulate", "train", "detect", "restore", "deblend", "evaluate", "export", "tasks", "automl",
                   "instruments", "models", "crossmatch")


def register_all() -> None:
    for name in COMMAND_MODULES:
        import_module(f"{__name__}.{name}")
