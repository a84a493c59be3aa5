"""``report.pdf``: the HTML page printed by a headless Chromium (issue 17 item 4).

The browser is the system's (``chromium``, ``chromium-browser``, ``google-chrome`` or
``google-chrome-stable`` on ``PATH``, or ``$IMPLICIT_VERIFY_CHROMIUM``); nothing is downloaded.
Without one, :func:`find_browser` returns ``None`` and :func:`require_browser` raises the
toolkit's one-line error naming the missing browser and how to install it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["BROWSERS", "find_browser", "require_browser", "print_pdf"]

#: executable names tried in this order.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_INSTALL = ("install Chromium (Debian/Ubuntu: apt-get install chromium) or set "
            "IMPLICIT_VERIFY_CHROMIUM to a Chromium/Chrome executable, or drop pdf from --format")


def find_browser() -> str | None:
    """The path of a Chromium-family browser, or ``None``."""
    env = os.environ.get("IMPLICIT_VERIFY_CHROMIUM")
    if env:
        return env if Path(env).is_file() and os.access(env, os.X_OK) else None
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_browser() -> str:
    """:func:`find_browser` or an ``InvalidArgument`` naming the missing browser."""
    path = find_browser()
    if path is None:
        from bounds._errors import invalid

        raise invalid("format", "pdf", "needs a headless Chromium browser, none found (tried "
                      f"$IMPLICIT_VERIFY_CHROMIUM, {', '.join(BROWSERS)})", _INSTALL)
    return path


def print_pdf(page: bytes, *, browser: str | None = None, timeout_s: float = 120.0) -> bytes:
    """Print one self-contained HTML page to PDF with ``browser --headless --print-to-pdf``;
    the PDF's bytes.  Raises ``RuntimeError`` with the browser's message when it fails."""
    exe = browser or require_browser()
    with tempfile.TemporaryDirectory(prefix="iv-pdf-") as tmp:
        src = Path(tmp) / "report.html"
        dst = Path(tmp) / "report.pdf"
        src.write_bytes(page)
        cmd = [exe, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
               "--no-default-browser-check", f"--user-data-dir={Path(tmp) / 'profile'}",
               "--no-pdf-header-footer", f"--print-to-pdf={dst}", src.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              check=False)
        if not dst.is_file() or dst.stat().st_size == 0:
            tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-3:]
            raise RuntimeError(f"{exe} did not write a PDF (exit {proc.returncode}): "
                               + " | ".join(tail))
        return dst.read_bytes()
