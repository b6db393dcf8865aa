"""The headless `decoras` command: info, simulate, detect, evaluate, export..."""

from __future__ import annotations

import argparse
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


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(
        prog="decoras",
        description="Find and measure sources in radio images with the DECORAS networks.",
    )
    parser.add_argument("--version", action="version", version=f"decoras {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (add_arguments, run) in _COMMANDS.items():
        p = sub.add_parser(name, help=run.help_text, description=run.help_text)  # type: ignore[attr-defined]
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def _load_commands() -> None:
    """Import the modules that register sub-commands (kept light: heavy imports are lazy)."""
    from .commands import register_all

    register_all()


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # here, so that a reader gone early is caught below, not at exit
        return code
    except DecorasError as exc:
        print(f"decoras {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"decoras {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `decoras info FILE | head`: the reader left, nothing more to say
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 141
