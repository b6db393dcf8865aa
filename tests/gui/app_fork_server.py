"""Starts window-app processes by forking one interpreter that has imported the app once
(crash tests launch the app 21 times: imports are ~2.5 s of its ~3.5 s start).

    python -m tests.gui.app_fork_server

One JSON request a line on stdin, one JSON answer a line on stdout::

    {"start": {"argv": [...], "env": {...}, "unset": [...], "log": PATH}}   -> {"pid": PID}
    {"reap": PID}                                  -> {"pid": PID, "signal": N or null, "code": N or null}

A started child is a process of its own running ``decoras_gui.gui.app.main(argv)``, the same
call as ``python -m decoras_gui.gui.app ARGV``, with its stdout and stderr in ``log``;
``reap`` waits until it has ended. Forking happens before any Qt object exists.
"""

from __future__ import annotations

import json
import os
import sys
import traceback


def _child(request: dict) -> None:
    """In the forked process: set up stdio and environment, run the app, never return."""
    code = 1
    try:
        fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for name in request.get("unset", []):
            os.environ.pop(name, None)
        os.environ.update(request.get("env", {}))
        from decoras_gui.gui import app

        sys.argv = [app.__file__, *request["argv"]]
        code = app.main(request["argv"]) or 0
    except BaseException:  # noqa: BLE001 - reported in the log, the exit code says it failed
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    # what the app imports on its way to the first window (torch: the device menu), once
    import pyqtgraph  # noqa: F401
    import torch  # noqa: F401
    from PySide6 import QtWidgets  # noqa: F401

    import decoras_gui.gui.app  # noqa: F401
    import decoras_gui.gui.main_window  # noqa: F401
    import decoras_gui.gui.script  # noqa: F401

    for line in sys.stdin:
        request = json.loads(line)
        if "start" in request:
            sys.stdout.flush()
            pid = os.fork()
            if pid == 0:
                _child(request["start"])
            answer = {"pid": pid}
        else:
            pid, status = os.waitpid(int(request["reap"]), 0)
            answer = {"pid": pid, "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                      "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
