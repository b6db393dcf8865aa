"""The observing schedules the simulator knows, by name (no imports: the command line needs
them without loading the simulator)."""

SCHEDULE_NAMES = ("mjive20", "full-track", "random")
