"""The headless `decoras` command: info, simulate, detect, evaluate, export...

Start-up is kept short: reading the command line imports no more than the command modules
(their heavy imports are inside their functions), and each sub-command's options are added
when that sub-command is used (:class:`_LazyParser`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .core.errors import DecorasError

EXIT_USER_ERROR = 2

Command = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Command]] = {}


def command(name: str, help_text: str):
    """Register a sub-command: the decorated function adds its arguments to a parser."""

    def register(add_arguments: Callable[[argparse.ArgumentParser], None]):
        def wrap(run: Command) -> Command:
            _COMMANDS[name] = (add_arguments, run)
            run.help_text = help_text  # type: ignore[attr-defined]
            return run

        return wrap

    return register


class _LazyParser(argparse.ArgumentParser):
    """A sub-command's parser that adds its options when it is first used (parsing or help),
    so that ``decoras detect ...`` does not import what the other commands' options need."""

    def __init__(self, *args, add_arguments: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._add_arguments = add_arguments

    def _complete(self) -> None:
        add, self._add_arguments = self._add_arguments, None
        if add is not None:
            add(self)

    def parse_known_args(self, args=None, namespace=None):
        self._complete()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._complete()
        return super().format_usage()

    def format_help(self) -> str:
        self._complete()
        return super().format_help()


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(
        prog="decoras",
        description="Find and measure sources in radio images with the DECORAS networks.",
    )
    parser.add_argument("--version", action="version", version=f"decoras {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_LazyParser)
    sub.required = True
    for name, (add_arguments, run) in _COMMANDS.items():
        p = sub.add_parser(name, help=run.help_text, description=run.help_text,  # type: ignore[attr-defined]
                           add_arguments=add_arguments)
        p.set_defaults(run=run)
    return parser


def _load_commands() -> None:
    """Import the modules that register sub-commands (kept light: heavy imports are lazy)."""
    from .commands import register_all

    register_all()


#: numpy/scipy's BLAS threads for the command's own process: its linear algebra is many small
#: least-squares fits (a few thousand pixels by 3-36 parameters), where a second thread only
#: waits, and on a busy machine made each SVD 20 times slower (benchmarks/RESULTS.md).
#: Takes effect only before numpy is first imported; $OPENBLAS_NUM_THREADS, when set, wins.
BLAS_THREADS = "1"


#: commands that, run as the program (``main()`` without arguments), end without the interpreter's
#: tear-down of the libraries they loaded (0.3-0.5 s after a detection here): their files are
#: written and closed, and their output flushed, by then
FAST_EXIT_COMMANDS = ("detect",)


def main(argv: Sequence[str] | None = None) -> int:
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", BLAS_THREADS)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, so that a reader gone early is caught below, not at exit
        if argv is None and args.command in FAST_EXIT_COMMANDS:
            sys.stderr.flush()
            os._exit(code)
        return code
    except DecorasError as exc:
        print(f"decoras {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"decoras {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `decoras info FILE | head`: the reader left, nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141
