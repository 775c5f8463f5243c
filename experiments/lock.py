"""A results folder is written by one sweep at a time: a lock held while it runs.

The lock is ``fcntl.flock`` on ``DIR/.lock``: the kernel releases it when its holder
ends, however it ends (``kill -9`` included), so a lock is never left behind by a dead
sweep, and a temporary file in the folder that no lock holder is writing is a dead
sweep's. The holder writes its pid, host and start time into the file, for the message
a second sweep on the folder stops with. Advisory, as every ``flock``: it binds berdaya's
sweeps (and anything else that asks for it), not other programs.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from berdaya.experiments.errors import SweepError

#: The lock file in a results folder.
LOCK_NAME = ".lock"


class FolderBusyError(SweepError):
    """Another sweep holds the results folder's lock."""


def holder_text(raw: bytes, study: str = "sweep") -> str:
    """Who holds a lock, from what its holder wrote in the lock file."""
    try:
        info = json.loads(raw.decode("utf-8"))
        return f"pid {int(info['pid'])} on {info['host']}, since {info['started']}"
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return f"a {study} starting now"  # it holds the lock and has not written yet


@contextmanager
def folder_lock(
    folder: str | Path, option: str = "--out", study: str = "sweep"
) -> Iterator[Path]:
    """Hold ``folder``'s lock (making the folder) while the block runs.

    Args:
        folder: The results folder.
        option: The option that named the folder, for the message.
        study: What writes such a folder (``sweep``, ``study``), for the message.

    Yields:
        The lock file.

    Raises:
        FolderBusyError: Another process holds it; one line naming the holder.
    """
    try:
        import fcntl  # noqa: PLC0415 - POSIX only
    except ImportError:  # pragma: no cover - not on POSIX: no lock
        yield Path(folder) / LOCK_NAME
        return
    path = Path(folder) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(
                f"{option}: '{folder}' is being written by another {study} "
                f"({holder_text(os.pread(fd, 4096, 0), study)}); wait for it to end, or give "
                "another folder"
            ) from None
        except OSError as err:  # a file system without locks (some network ones)
            if err.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                raise
            warnings.warn(
                f"'{folder}' cannot be locked ({err.strerror}): do not run two sweeps "
                "on it at once",
                RuntimeWarning,
                stacklevel=3,
            )
        me = {
            "pid": os.getpid(),
            "host": platform.node(),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
        yield path
        os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock
