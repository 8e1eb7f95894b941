"""What a failed file write says: one line naming the file, and a full disk as a full disk.

torch.save reports a full disk as ``[enforce fail at inline_container.cc:672] . unexpected
pos 704 vs 598`` (a RuntimeError raised while the real ``OSError: [Errno 28] No space left on
device`` from the file object is only its ``__context__``). :func:`torch_save` brings that
OSError back, and :func:`write_error_text` phrases it, and any other OSError of a write, as
one line: ``no space left on DEVICE (mounted at MOUNT) writing FILE``.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, BinaryIO

FULL_DISK_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in FULL_DISK_ERRNOS


def mount_point(path: str | Path) -> Path:
    """The mount point of the file system that holds ``path`` (or would hold it)."""
    p = Path(os.path.abspath(path))
    while not p.exists() and p != p.parent:
        p = p.parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def device_name(path: str | Path) -> str:
    """The device (or file system) mounted where ``path`` lies: ``/dev/sda1``, ``tmpfs``, or
    the mount point itself where the platform does not say (macOS, Windows)."""
    mount = mount_point(path)
    device = None
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            for line in fh:
                fields = line.split()
                if len(fields) >= 2 and fields[1].replace("\\040", " ") == str(mount):
                    device = fields[0]  # the last entry for a mount point is the visible one
    except OSError:
        pass
    return str(mount) if device is None else f"{device} (mounted at {mount})"


def os_error_text(exc: OSError) -> str:
    """The reason of an OSError without its file name (``Permission denied``)."""
    return exc.strerror or type(exc).__name__


def write_error_text(path: str | Path, exc: OSError) -> str:
    """One line for a write of ``path`` that failed with ``exc``."""
    if is_disk_full(exc):
        return f"no space left on {device_name(path)} writing {path}"
    return f"cannot write {path}: {os_error_text(exc)}"


def os_error_in(exc: BaseException) -> OSError | None:
    """The OSError that caused ``exc`` (``exc`` itself, its cause or its context), if any."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def torch_save(obj: Any, fh: BinaryIO, path: str | Path) -> None:
    """``torch.save(obj, fh)``; a failure of the file underneath is raised as that OSError
    (with ``path`` as its file name), not as torch's RuntimeError about its zip writer."""
    import torch

    try:
        torch.save(obj, fh)
    except OSError as exc:
        if exc.filename is None:
            exc.filename = str(path)
        raise
    except RuntimeError as exc:
        cause = os_error_in(exc)
        if cause is None:
            raise
        raise OSError(cause.errno, cause.strerror, str(path)) from exc
