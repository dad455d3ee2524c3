"""Files chainrule writes and reads, without ever losing a person's work.

A file is written whole or not at all: the bytes go to a temporary file in
the same folder, which is flushed to disk and then renamed over the target
(an atomic step on POSIX).  A failure at any point (a full disk, no
permission) leaves the old file as it was and no temporary file behind.
Only regular files are written: a path that leads to a folder, a device or
a pipe (a symlink to /dev/stdout, say) is refused, so that a figure's bytes
never land in a stream.

Every problem is a :class:`~chainrule.errors.FileError` naming the path and
the cause; the command line makes it exit 2.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from chainrule.errors import FileError

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a device"),
    (stat.S_ISBLK, "a device"),
    (stat.S_ISFIFO, "a pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def _problem(what: str, path: Path, err: OSError) -> FileError:
    return FileError(f"{what} {str(path)!r}: {err.strerror or err}")


def writable(path: Path, option: str, streams: tuple[int, ...] = ()) -> Path:
    """The real path a file will be written to, checked before any work is done.

    Follows symlinks; refuses a target that exists and is not a regular file or
    that cannot be written, a folder that does not exist, and the file behind
    any of the open `streams` (a symlink to /dev/stdout when stdout is a file).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as err:
        raise _problem(f"{option} cannot write", path, err) from None
    if info is not None:
        kind = next((name for test, name in _KINDS if test(info.st_mode)), None)
        if kind is not None:
            raise FileError(f"{option} writes a file, and {str(path)!r} is {kind}", hint="give the path of a file")
        if any(_same(info, fd) for fd in streams):
            raise FileError(
                f"{option} would overwrite the file the output goes to: {str(path)!r} leads to it",
                hint="give the path of another file",
            )
        if not os.access(path, os.W_OK):
            raise FileError(f"{option} cannot write {str(path)!r}: Permission denied")
    target = Path(os.path.realpath(path))
    if not target.parent.is_dir():
        raise FileError(
            f"{option} cannot write {str(path)!r}: the folder {str(target.parent)!r} does not exist",
            hint="create the folder first, or choose another path",
        )
    return target


def _same(info: os.stat_result, fd: int) -> bool:
    try:
        other = os.fstat(fd)
    except OSError:
        return False
    return (info.st_dev, info.st_ino) == (other.st_dev, other.st_ino)


def write_atomically(path: Path, data: bytes, option: str, streams: tuple[int, ...] = ()) -> None:
    """Write `data` to `path` whole, or leave `path` untouched and raise FileError.

    Checks `path` again (see :func:`writable`): it may have changed during the work.
    """
    target = writable(path, option, streams)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    except OSError as err:
        raise _problem(f"{option} cannot write", path, err) from None
    temporary: str | None = None
    try:
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
        temporary = None
    except OSError as err:
        raise _problem(f"{option} cannot write", path, err) from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
