"""Write outputs so that nothing is ever destroyed: atomic files, checked targets, all or none.

- A regular file (or a new path) is written atomically: a temporary file in the same
  directory, then a rename, so a reader sees the old file or the whole new one. A
  symbolic link is followed and the file it names is replaced; the link stays.
- Anything else that exists — ``/dev/null``, ``/dev/stdout``, a terminal, a FIFO — is
  written directly, never renamed over (that would replace the device node or the pipe
  with a regular file). ``-`` is standard output.
- :func:`check_outputs` refuses, before any work is done, an output that is one of the
  run's inputs (same file, through any symlink or hard link), two outputs to one file,
  and a path that names a directory.
- :func:`write_outputs` writes several outputs all or none: every file is staged first,
  and only when all are staged are they renamed into place, with SIGINT, SIGTERM and
  SIGHUP held back for those few renames. What was written is recorded for the message
  an interrupted run prints (:func:`written_outputs`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from scalearc_lint.errors import InputError

STDOUT = "-"

#: Outputs written so far in this process, for the message of an interrupted run. A
#: module-level record because an interrupt can land anywhere after a write, far from it.
_written: list[str] = []


def written_outputs() -> list[str]:
    """The outputs written since the last :func:`forget_written_outputs`, in order."""
    return list(_written)


def forget_written_outputs() -> None:
    """Start a new record of written outputs (the CLI does so at the start of each run)."""
    _written.clear()


@dataclass(frozen=True, slots=True)
class _Target:
    """Where an output goes: standard output, a stream path written directly, or a file."""

    name: str
    #: The path written: for a file, the real path after following symbolic links.
    path: str
    kind: str  # "stdout" | "stream" | "file"
    #: (device, inode) of what is there now, or None for a new file.
    identity: tuple[int, int] | None


def _is_null_device(info: os.stat_result) -> bool:
    try:
        null = Path(os.devnull).stat()
    except OSError:
        return False
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == null.st_rdev


def _is_stdout(info: os.stat_result) -> bool:
    """Whether a file is the one standard output writes to (the null device aside)."""
    try:
        out = os.fstat(sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    same = (out.st_dev, out.st_ino) == (info.st_dev, info.st_ino)
    return same and not _is_null_device(info)


def _target(name: str) -> _Target:
    """Classify an output path, or raise InputError when it cannot be an output file."""
    if name == STDOUT:
        return _Target(name, name, "stdout", None)
    if not name or name.endswith(("/", os.sep)) or Path(name).name in ("", ".", ".."):
        raise InputError(f"{name or repr(name)}: names a directory, expected an output file")
    try:
        info = Path(name).stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InputError(f"{name}: cannot write: {exc.strerror or exc}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError(f"{name}: is a directory, cannot write output there")
    if info is not None and _is_stdout(info):
        # /dev/stdout, or the very file the shell sent stdout to: one stream, written as
        # such (replacing or truncating it would lose or garble what else goes there).
        return _Target(name, name, "stdout", None)
    if info is not None and not stat.S_ISREG(info.st_mode):
        return _Target(name, name, "stream", (info.st_dev, info.st_ino))
    if _through_proc(name):
        # /dev/stdout and /dev/fd/N lead to /proc/self/fd: whatever the shell opened there
        # is written through, never replaced (even when it is a regular file).
        return _Target(name, name, "stream", None)
    real = Path(os.path.realpath(name))
    directory = real.parent
    if not directory.is_dir():
        raise InputError(f"{name}: directory {Path(name).parent} does not exist")
    identity = (info.st_dev, info.st_ino) if info is not None else None
    return _Target(name, str(real), "file", identity)


def _through_proc(name: str) -> bool:
    """Whether following the symbolic links of ``name`` passes through ``/proc``."""
    path = Path(name).absolute()
    for _ in range(40):  # the kernel's own limit on links followed
        parent = path.parent.resolve()
        if parent.parts[:2] == ("/", "proc"):
            return True
        path = parent / path.name
        if not path.is_symlink():
            return False
        path = Path(os.path.normpath(parent / path.readlink()))
    return False


def goes_to_stdout(name: str) -> bool:
    """Whether an output target is standard output: ``-``, ``/dev/stdout``, or the file the
    shell sent stdout to (then that output takes stdout's place)."""
    return _target(name).kind == "stdout"


def _identity(path: str | Path) -> tuple[int, int] | None:
    try:
        info = Path(path).stat()
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def check_outputs(
    outputs: Sequence[tuple[str, str]], inputs: Sequence[tuple[str, str | Path]] = ()
) -> None:
    """Refuse bad output targets before any work: each ``(option, path)`` output must not be
    an input ``(what, path)``, two outputs must not be one file, a path must not be a
    directory, and standard output can take one output only (and must be open)."""
    input_ids: dict[tuple[int, int], tuple[str, str | Path]] = {}
    for what, path in inputs:
        identity = _identity(path)
        if identity is not None:
            input_ids.setdefault(identity, (what, path))
    seen: dict[object, str] = {}
    for option, name in outputs:
        target = _target(name)
        label = f"{option} {name}"
        if target.kind == "stdout":
            if sys.stdout is None:
                raise InputError(f"{label}: standard output is closed")
            key: object = STDOUT
        elif target.identity is not None:
            if target.identity in input_ids:
                what, path = input_ids[target.identity]
                same = "" if str(path) == name else f" ({path})"
                raise InputError(
                    f"{label}: is the {what}{same} this run reads; writing there would destroy "
                    "it, so name another output file"
                )
            try:
                if target.kind == "stream" and _is_null_device(Path(name).stat()):
                    continue  # any number of outputs may be thrown away
            except OSError:
                pass
            key = target.identity
        else:
            key = target.path
        if key in seen:
            if key == STDOUT:
                first = seen[key].removesuffix(f" {STDOUT}")
                raise InputError(f"only one output can go to stdout, not {first} and {option}")
            raise InputError(f"{label}: {seen[key]} already writes to that file")
        seen[key] = label


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back for a moment, then deliver what arrived."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def hold(signum: int, frame: object) -> None:
        pending.append(signum)

    held = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s]
    previous = {signum: signal.signal(signum, hold) for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            os.kill(os.getpid(), signum)


def _new_file_mode() -> int:
    """0o666 less the umask, the mode a plain ``open`` would have created the file with."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _stage(target: _Target, data: bytes) -> str:
    """Write ``data`` to a temporary file beside the target; returns its path."""
    real = Path(target.path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as exc:
        raise InputError(f"{target.name}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(real.stat().st_mode)
        except FileNotFoundError:
            mode = _new_file_mode()
        Path(tmp).chmod(mode)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        if isinstance(exc, OSError):
            raise InputError(f"{target.name}: cannot write: {exc.strerror or exc}") from None
        raise
    return tmp


def _write_stream(target: _Target, data: bytes, stdout: BinaryIO | None) -> None:
    try:
        if target.kind == "stdout":
            stream = stdout if stdout is not None else _stdout_buffer(target.name)
            stream.write(data)
            stream.flush()
        else:
            with open(target.path, "wb") as handle:  # noqa: PTH123 - a device or FIFO, as-is
                handle.write(data)
    except OSError as exc:
        if target.kind == "stdout" and stdout is None:
            raise stdout_failed(exc) from None
        where = "standard output" if target.kind == "stdout" else target.name
        raise InputError(f"{where}: cannot write: {exc.strerror or exc}") from None
    _written.append("standard output" if target.kind == "stdout" else target.name)


def _stdout_buffer(name: str) -> BinaryIO:
    if sys.stdout is None:
        raise InputError(f"{name}: standard output is closed")
    return sys.stdout.buffer


def write_outputs(outputs: Sequence[tuple[str, bytes]], *, stdout: BinaryIO | None = None) -> None:
    """Write each ``(target, data)``: every file or none of them, then the streams.

    ``stdout`` is where ``-`` goes (default: ``sys.stdout``). Files are staged, then renamed
    into place together; if staging fails or is interrupted, no file is touched.
    """
    targets = [(_target(name), data) for name, data in outputs]
    staged: list[tuple[_Target, str]] = []
    try:
        for target, data in targets:
            if target.kind == "file":
                staged.append((target, _stage(target, data)))
    except BaseException:
        for _, tmp in staged:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
        raise
    with _signals_held():
        for index, (target, tmp) in enumerate(staged):
            try:
                Path(tmp).replace(target.path)
            except OSError as exc:
                for _, rest in staged[index:]:
                    with contextlib.suppress(OSError):
                        Path(rest).unlink()
                raise InputError(f"{target.name}: cannot write: {exc.strerror or exc}") from None
            _written.append(target.name)
    for target, data in targets:
        if target.kind != "file":
            _write_stream(target, data, stdout)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write one output (see :func:`write_outputs`)."""
    write_outputs([(str(path), data)])


@contextlib.contextmanager
def stdout_kept_for_report() -> Iterator[BinaryIO]:
    """Keep standard output for a report: yield a stream to it, and send everything else
    printed meanwhile (a rule's ``print``, even a write to file descriptor 1) to stderr."""
    if sys.stdout is None:
        raise InputError("-: standard output is closed")
    sys.stdout.flush()
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None  # not a real file (output captured in memory): redirect Python-level only
    if fd is None:
        report = sys.stdout.buffer
        with contextlib.redirect_stdout(sys.stderr):
            yield report
        return
    saved = os.dup(fd)
    report = os.fdopen(os.dup(saved), "wb")
    try:
        if sys.stderr is not None:
            os.dup2(sys.stderr.fileno(), fd)
        else:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        with contextlib.redirect_stdout(sys.stderr):
            yield report
    finally:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        with contextlib.suppress(OSError):
            report.close()  # a failed write was reported already; do not fail again here
        os.dup2(saved, fd)
        os.close(saved)


def silence_stdout() -> None:
    """Point standard output at the null device (its reader is gone), so that neither later
    prints nor the interpreter's last flush complain about a broken pipe."""
    if sys.stdout is None or sys.stdout is sys.stderr:
        return  # stdout is closed, or sent to stderr for now (see stdout_kept_for_report)
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


def stdout_failed(exc: OSError) -> InputError:
    """The error for a failed write to standard output (a full disk, a closed pipe); stdout is
    silenced first, so the interpreter's own last flush does not fail again at exit."""
    silence_stdout()
    return InputError(f"standard output: cannot write: {exc.strerror or exc}")
