"""One writer per run folder: an OS file lock that dies with its process.

Whatever writes a run folder (``train``, a sweep trial, the app's training process, a resume
in any of them) holds an exclusive lock on ``RUN_DIR/.writer.lock`` from the moment it opens
the folder for writing until it closes it. A second writer is refused with one line naming
the holder (``pid 4242 on host, python main.py train ..., since 14:03:07``); readers (open,
follow, snapshots, sweeps' summaries) never lock and are never refused.

The lock is the operating system's, tied to the open file: ``flock`` on Linux and macOS (BSD
locks, per open file description, so two opens in one process exclude each other too; on NFS,
Linux maps them to the server's byte-range locks), ``msvcrt.locking`` on Windows. The kernel
drops it when the process ends however it ends (a kill -9 included), so there is never a
stale lock to clean up; the file itself stays, holding the last holder's description, which is
read only while the lock is held. The file descriptor is not inheritable, and every child
process here is spawned, so no child keeps a parent's lock.

A library such as ``filelock`` was not used: its Windows lock deletes and truncates the file,
which would erase the holder's description that the refusal names.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sys
import time
from pathlib import Path

from .runlayout import RunPaths

# A writer that finds the lock taken tries again for this long: a reader asking who holds
# it (holder()) takes the lock for a moment, and that must not refuse a real writer.
ACQUIRE_RETRY_S = 1.0
_WINDOWS_LOCK_OFFSET = 1 << 30  # Windows locks are mandatory: lock a byte past the text

_role = ""


class RunLockedError(RuntimeError):
    """The run folder is written by another process; the message names it (one line)."""


def set_process_role(role: str) -> None:
    """What this process is, as a refusal names it (e.g. "the app's training process")."""
    global _role
    _role = role


def _command() -> str:
    """This process's command line; a spawned child's is its parent's (``multiprocessing``
    copies it), so it is named as that process's worker."""
    import multiprocessing

    argv = list(sys.argv)
    if argv and argv[0].endswith("main.py"):
        argv[0] = "main.py"
    text = " ".join(argv) or "python"
    if multiprocessing.parent_process() is not None:
        text = f"a worker process of pid {os.getppid()}: {text}"
    return text if len(text) <= 200 else text[:199] + "…"


def describe_self() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "role": _role,
            "command": _command(),
            "since": datetime.datetime.now().isoformat(timespec="seconds")}


def describe(info: dict | None) -> str:
    """A holder's description as text: ``pid 42 on host (role: command), since 14:03:07``."""
    if not info:
        return "another process (it has not said which yet)"
    what = ", ".join(x for x in (info.get("role"), info.get("command")) if x)
    since = str(info.get("since", ""))
    since = since.split("T", 1)[-1] if since.startswith(datetime.date.today().isoformat()) \
        else since.replace("T", " ")
    text = f"pid {info.get('pid')} on {info.get('host')}"
    if what:
        text += f" ({what})"
    return text + (f", since {since}" if since else "")


# ------------------------------------------------------------------------- the OS lock
if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _open(path: Path) -> int:
    return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)


def _read_info(path: Path) -> dict | None:
    try:
        text = path.read_text(encoding="utf-8")
        info = json.loads(text)
        return info if isinstance(info, dict) else None
    except (OSError, ValueError):
        return None


class RunLock:
    """The write lock of one run folder, held by this process between :meth:`acquire` and
    :meth:`release` (or the process's end)."""

    def __init__(self, run_dir: str | Path):
        self.run_dir = Path(run_dir)
        self.path = RunPaths(self.run_dir).writer_lock
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock (the folder must exist); RunLockedError naming the holder if another
        process has it, OSError if the lock file cannot be made."""
        if self._fd is not None:
            return
        fd = _open(self.path)
        deadline = time.monotonic() + ACQUIRE_RETRY_S
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                raise RunLockedError(
                    f"{self.run_dir} is being written by {describe(_read_info(self.path))}: "
                    f"one process writes a run folder at a time; wait for it to finish or "
                    f"stop it, then try again")
            time.sleep(0.05)
        try:
            data = json.dumps(describe_self()).encode("utf-8")
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, data)
        except OSError:
            pass  # the description is a courtesy; the lock is what counts
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)


def holder(run_dir: str | Path) -> str | None:
    """Who writes ``run_dir`` now (its description), or None when nobody does. For readers
    that want to say so (the app before it offers Resume); it never blocks a writer for more
    than a moment (writers retry for ACQUIRE_RETRY_S)."""
    path = RunPaths(run_dir).writer_lock
    if not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        if _try_lock(fd):
            _unlock(fd)
            return None
        return describe(_read_info(path))
    finally:
        os.close(fd)
