"""The writer lock of a sweep directory: one process writes a sweep at a time.

:class:`SweepLock` holds an advisory exclusive ``fcntl.flock`` on ``OUT/.sweep.lock`` for as
long as :func:`~verify.sweep.engine.run_sweep` writes ``OUT`` — a new sweep and ``--resume``
alike (readers such as ``sweep --from`` take no lock: every file is replaced atomically).  The
lock file lies *inside* the sweep directory, so every path that names the directory (a symlink,
a relative path) meets the same lock, and it holds the holder's pid for the message a second
writer gets.

* A second writer is refused at once (no waiting) with one line naming the argument (``--out``
  on the command line) and the holder's pid.
* A lock left by a process that died (SIGKILL, a crash, a lost node) is no lock: the kernel
  releases a ``flock`` with its process, so the next writer takes the file over.
* ``.sweep.lock`` that is not a regular file (a directory, say) is refused by name, with the fix.
* The file is removed when the lock is released (after the holder checked, under the lock, that
  the path still names the file it locked, so a writer that opened the old file retries), and a
  directory the lock created is removed again when the sweep left nothing in it (a sweep
  refused before it wrote ``sweep.json`` leaves the file system as it found it).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from bounds._errors import invalid

__all__ = ["SweepLock", "LOCK_FILE"]

LOCK_FILE = ".sweep.lock"


class SweepLock:
    """Context manager: exclusive writer lock on the sweep directory ``out`` (module docstring).

    ``name`` is the argument blamed in errors (``out_dir`` in the library, mapped to ``--out``
    by the CLI)."""

    def __init__(self, out: str | os.PathLike[str], name: str = "out_dir") -> None:
        self.out = Path(out)
        self.name = name
        self.path = self.out / LOCK_FILE
        self._fd: int | None = None
        self._made: list[Path] = []  # directories created by __enter__, outermost first

    def _refuse(self, problem: str, fix: str) -> Exception:
        return invalid(self.name, str(self.out), problem, fix)

    def _mkdirs(self) -> None:
        if self.out.exists() or self.out.is_symlink():
            if not self.out.is_dir():
                raise self._refuse("exists and is not a directory", "choose another --out")
            return
        missing = []
        p = self.out.absolute()
        while not p.exists() and p != p.parent:
            missing.append(p)
            p = p.parent
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._refuse(f"cannot be created ({exc.strerror or exc})",
                               "choose a directory you can write, or create it first") from None
        self._made = list(reversed(missing))

    def __enter__(self) -> SweepLock:
        import fcntl

        self._mkdirs()
        try:
            for _ in range(20):  # retried only when the holder removed the file meanwhile
                try:
                    st = os.lstat(self.path)
                except FileNotFoundError:
                    st = None
                if st is not None and not stat.S_ISREG(st.st_mode):
                    what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                    raise self._refuse(f"its lock file {self.path} is {what}",
                                       f"remove {self.path} (no sweep uses it as a lock) and run "
                                       "the command again")
                try:
                    fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
                except OSError as exc:
                    raise self._refuse(f"cannot open its lock file {self.path} "
                                       f"({exc.strerror or exc})",
                                       "check the directory's permissions (the sweep's writer needs "
                                       "to create files in it)") from None
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
                    os.close(fd)
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise self._refuse(f"cannot lock {self.path} ({exc.strerror or exc})",
                                           "put the sweep on a file system with flock "
                                           "locks") from None
                    raise self._refuse(f"is being written by another process (pid {holder})",
                                       "wait for that sweep to finish (or stop it), then continue "
                                       "with --resume; or choose another --out") from None
                try:
                    same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:  # the previous holder removed the file after we opened it
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
                self._fd = fd
                return self
            raise self._refuse(f"its lock file {self.path} keeps being replaced",
                               "make sure one process writes the sweep at a time")
        except BaseException:
            self._remove_made()
            raise

    def _remove_made(self) -> None:
        for d in reversed(self._made):  # innermost first; only directories left empty
            try:
                d.rmdir()
            except OSError:
                break
        self._made = []

    def __exit__(self, *exc: Any) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        import fcntl

        try:
            self.path.unlink(missing_ok=True)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
            self._remove_made()
