"""The console script and ``python -m chainrule``.

A launcher so small that a Ctrl-C while Python imports the command line
(typer, click, about 0.2 s) is still answered as the command line answers it:
"interrupted" on stderr, one JSON document with --json, and exit 130, never a
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
    except KeyboardInterrupt:  # in the last instants, before the command line's own handling
        _interrupted(sys.argv[1:])


def _interrupted(args: list[str]) -> None:
    from chainrule.startup import wants_json

    print("error: interrupted", file=sys.stderr)
    if wants_json(args):
        from chainrule.errors import Interrupted
        from chainrule.render.documents import early_document

        print(early_document(args, Interrupted("interrupted"), ascii=True))
    sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    main()
