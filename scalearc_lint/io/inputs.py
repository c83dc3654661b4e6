"""Read input files (snapshots, configs, waivers, plans, results) with one-line errors.

Every input is read through :func:`read_input_file`, which never blocks and never reads
without bound: only regular files are read (a FIFO with no writer would block forever,
``/dev/zero`` never ends), and a file larger than the input limit is refused from its
size, before a byte is read. The limit is far above any real input (a 40,000-VM
vCenter's snapshot is about 30 MB) and can be raised with ``SCALEARC_LINT_MAX_INPUT_MB``.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Mapping
from pathlib import Path

from scalearc_lint.errors import InputError

#: Environment variable that sets the input size limit, in MB, for every input file.
MAX_INPUT_ENV = "SCALEARC_LINT_MAX_INPUT_MB"
#: Default limits in MB: JSON inputs (snapshots, bundles, results) and text inputs (YAML
#: config, waivers and plans, servers files; parsed far more slowly, and written by hand).
JSON_LIMIT_MB = 1024
TEXT_LIMIT_MB = 16

_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def _kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def input_limit(default_mb: int, environ: Mapping[str, str] | None = None) -> int:
    """The input size limit in bytes: ``SCALEARC_LINT_MAX_INPUT_MB`` if set, else the default."""
    env = os.environ if environ is None else environ
    raw = env.get(MAX_INPUT_ENV, "").strip()
    if not raw:
        return default_mb * 1024 * 1024
    try:
        megabytes = int(raw)
    except ValueError:
        raise InputError(f"{MAX_INPUT_ENV}={raw!r}: expected a whole number of MB") from None
    if megabytes <= 0:
        raise InputError(f"{MAX_INPUT_ENV}={raw!r}: expected a positive number of MB")
    return megabytes * 1024 * 1024


def read_input_file(path: str | Path, *, what: str, limit_mb: int = JSON_LIMIT_MB) -> bytes:
    """Read a whole regular file of at most the input limit, or raise InputError.

    ``what`` names the expected content in messages ("JSON snapshot", "YAML config").
    Missing, directory, FIFO, device, socket, unreadable, too large and empty files
    are refused with one line each.
    """
    limit = input_limit(limit_mb)
    try:
        mode = Path(path).stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read: {_reason(exc)}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{path}: is {_kind_of(mode)}, expected a {what} file")
    try:
        # O_NONBLOCK: should the path have been swapped for a FIFO since the stat, opening
        # it still does not wait for a writer; fstat below then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {_reason(exc)}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: is {_kind_of(info.st_mode)}, expected a {what} file")
        if info.st_size > limit:
            raise InputError(_too_large(path, info.st_size, limit, what))
        try:
            # One byte over the limit tells a file that grew since the fstat.
            data = handle.read(limit + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {_reason(exc)}") from None
    if len(data) > limit:
        raise InputError(_too_large(path, len(data), limit, what))
    if not data or data.isspace():  # not data.strip(): that copies a 100 MB file
        raise InputError(f"{path}: empty file, expected a {what}")
    return data


class BackgroundDigest:
    """The SHA-256 of some bytes, worked out on another thread while this one goes on.

    hashlib lets go of the interpreter lock while it hashes a large buffer, so hashing a
    100 MB snapshot beside its decoding costs no wall time on a machine with two cores.
    """

    #: Below this, hashing is quicker than starting a thread.
    THREADED_FROM = 1 << 20

    def __init__(self, data: bytes) -> None:
        self._hash = hashlib.sha256()
        self._thread: threading.Thread | None = None
        if len(data) < self.THREADED_FROM:
            self._hash.update(data)
        else:
            self._thread = threading.Thread(
                target=self._hash.update, args=(data,), name="sha256", daemon=True
            )
            self._thread.start()

    def hexdigest(self) -> str:
        """The digest, once the hashing is done."""
        if self._thread is not None:
            self._thread.join()
        return self._hash.hexdigest()


def _too_large(path: str | Path, size: int, limit: int, what: str) -> str:
    return (
        f"{path}: {size / 1048576:.1f} MB is more than the {limit // 1048576} MB limit for a "
        f"{what} (set {MAX_INPUT_ENV} to raise it)"
    )


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def without_bom(data: bytes, path: str | Path) -> bytes:
    """The bytes after a UTF-8 byte-order mark (which is allowed); UTF-16/32 are refused."""
    if data.startswith(_UTF8_BOM):
        return data[len(_UTF8_BOM) :]
    for mark, encoding in _OTHER_BOMS:
        if data.startswith(mark):
            raise InputError(
                f"{path}: starts with a {encoding} byte-order mark; save the file as UTF-8"
            )
    return data


def decode_text(data: bytes, path: str | Path, *, what: str) -> str:
    """UTF-8 text of an input file (a UTF-8 byte-order mark is skipped), or InputError."""
    body = without_bom(data, path)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}:{line}: not UTF-8 text (byte 0x{body[exc.start]:02x}), expected a {what}"
        ) from None
