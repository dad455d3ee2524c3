"""The console script and ``python -m chainrule``.

A launcher so small that a Ctrl-C while Python imports the command line
(typer, click, about 0.2 s) is still answered as the command line answers it:
"interrupted" on stderr, one JSON document with --json, and exit 130 (128 + the
signal's number for SIGTERM and SIGHUP, once the command line answers them), never a
traceback.  Everything else is :func:`chainrule.cli.main`.
"""

from __future__ import annotations

import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from chainrule.cli import main as command_line
    except KeyboardInterrupt:
        _interrupted(sys.argv[1:])
    try:
        command_line()
    except KeyboardInterrupt as stop:  # in the last instants, before the command line's own handling
        _interrupted(sys.argv[1:], getattr(stop, "signum", None))


def _interrupted(args: list[str], signum: int | None = None) -> None:
    import signal

    from chainrule.startup import wants_json

    message = "interrupted" if signum is None else f"stopped by {signal.Signals(signum).name}"
    print(f"error: {message}", file=sys.stderr)
    if wants_json(args):
        from chainrule.errors import Interrupted
        from chainrule.render.documents import early_document

        print(early_document(args, Interrupted(message, signum=signum or 2), ascii=True))
    sys.exit(EXIT_INTERRUPTED if signum is None else 128 + signum)


if __name__ == "__main__":
    main()
