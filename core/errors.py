"""How an exception is told in one line (a status bar, a summary cell, a CLI error line).

A leaf module (standard library only), so every layer can use it: the engine, the sweeps and
the app's helper processes.
"""

from __future__ import annotations


def first_line(exc: BaseException | str, limit: int | None = None) -> str:
    """The first non-empty line of an exception's message (of ``exc`` itself when it is a
    string), cut to ``limit`` characters with an ellipsis; an exception without a message
    gives its type's name."""
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ("" if isinstance(exc, str) else type(exc).__name__)
    if limit is not None and len(line) > limit:
        line = line[: limit - 1] + "…"
    return line


def typed_line(exc: BaseException) -> str:
    """``TypeName: first line`` (just ``TypeName`` without a message): for an error whose type
    says more than its text, such as a worker process's crash."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {first_line(text)}" if text else type(exc).__name__


def read_text_file(path, what: str, error: type[Exception]) -> str:
    """The UTF-8 text of ``path``; ``error`` with one line naming the file when it cannot be
    read: "<what> not found: PATH" or "cannot read <what> PATH: reason" (``what``: "config
    file", "points file")."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what} {path}: {exc}") from None
