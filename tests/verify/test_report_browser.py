"""The HTML report in a real browser (issue 17 item 5): the system's Chromium driven by
Playwright (``executable_path``; no browser download).  Skips, with the reason, when Playwright
or a Chromium executable is missing.

Pages: a freshly generated tiny report (from the hand-made fixture runs of ``test_report.py``,
with the kernels section's data) and the committed example ``reports/g22-digits/report.html``
when present.  On each: no console errors, every image decodes, every ``#anchor`` link
resolves, no horizontal overflow at 400 px, the headline card inside the first screen at
1280 × 800, and every ``<details>`` opens on a click of its summary (no JavaScript in the page).

The first screen at 1280 × 800 is saved as ``$TMPDIR/implicit-verify-first-screen*.png`` for a
person to look at.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from verify.report.pdf import find_browser

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "reports" / "g22-digits" / "report.html"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(pip install -e .[browser])")
_BROWSER = find_browser()
pytestmark = pytest.mark.skipif(_BROWSER is None, reason="no Chromium executable found "
                                "(apt-get install chromium, or set IMPLICIT_VERIFY_CHROMIUM)")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=_BROWSER, args=["--no-sandbox"])
        except Exception as exc:  # a Chromium Playwright cannot drive
            pytest.skip(f"playwright could not launch {_BROWSER}: {str(exc).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory) -> Path:
    from tests.verify.test_report import fixture_runs
    from verify.report import ReportMeta, render_report

    kernels = {"limit": {"status": "CONVERGED", "lambda_min_H": 0.09, "lambda0": 0.006,
                         "message": "converged", "gamma": 0.1},
               "source": "test", "convergence": None, "convergence_skipped": "not requested",
               "seconds": 0.1}
    meta = ReportMeta(command="implicit-verify report --test", kernels=kernels)
    files = render_report(fixture_runs(), meta, formats=("html",), dpi=40)
    out = tmp_path_factory.mktemp("tiny") / "report.html"
    out.write_bytes(files["report.html"])
    return out


def _pages(tiny: Path) -> list[Path]:
    return [tiny, *([EXAMPLE] if EXAMPLE.is_file() else [])]


_CHECKS = """() => {
  const imgs = [...document.images].map(i => [i.alt.slice(0, 40), i.complete, i.naturalWidth]);
  const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'));
  const missing = links.filter(h => !document.getElementById(decodeURIComponent(h.slice(1))));
  const card = document.getElementById('headline');
  const r = card ? card.getBoundingClientRect() : null;
  const navs = [...document.querySelectorAll('nav')].map(n => getComputedStyle(n).position);
  return {imgs, links: links.length, missing, scripts: document.scripts.length,
          card: r ? [r.top, r.bottom] : null, navs,
          details: document.querySelectorAll('details').length};
}"""


@pytest.mark.parametrize("which", ["tiny", "example"])
def test_report_in_browser(browser, tiny_report, which):
    if which == "example" and not EXAMPLE.is_file():
        pytest.skip(f"{EXAMPLE} not present")
    if which == "example" and 'id="headline"' not in EXAMPLE.read_text(encoding="utf-8"):
        pytest.skip(f"{EXAMPLE} predates the headline card: regenerate it (reports/README.md)")
    path = tiny_report if which == "tiny" else EXAMPLE
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri(), wait_until="load")
    info = page.evaluate(_CHECKS)
    shot = Path(tempfile.gettempdir()) / f"implicit-verify-first-screen-{which}.png"
    page.screenshot(path=str(shot))
    assert not errors, errors
    assert info["scripts"] == 0
    assert info["imgs"], "no images"
    bad = [i for i in info["imgs"] if not (i[1] and i[2] > 0)]
    assert not bad, f"images that did not decode: {bad[:5]}"
    assert info["links"] >= 5 and not info["missing"], info["missing"]
    assert info["card"] is not None, "no headline card"
    assert 0 <= info["card"][0] and info["card"][1] <= 800, f"headline card at {info['card']}"
    assert "sticky" in info["navs"]
    # the contents bar stays at the top after scrolling
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    top = page.evaluate("document.querySelector('nav.toc').getBoundingClientRect().top")
    assert abs(top) <= 1, top
    # every <details> opens on a click of its summary
    assert info["details"] >= 3
    details = page.locator("details")
    for i in range(details.count()):
        d = details.nth(i)
        assert d.get_attribute("open") is None
        d.locator("summary").first.scroll_into_view_if_needed()
        d.locator("summary").first.click()
        assert d.get_attribute("open") is not None, f"details {i} did not open"
    # no horizontal overflow at 400 px, details open (their tables are the widest content)
    page.set_viewport_size({"width": 400, "height": 800})
    over = page.evaluate("(() => { const e = document.scrollingElement; "
                         "return [e.scrollWidth, e.clientWidth]; })()")
    assert over[0] <= over[1] + 1, f"horizontal overflow at 400 px: {over}"
    page.close()


def test_pdf_prints(tiny_report, tmp_path):
    """``--format pdf``'s printer: a PDF with one page or more from the same browser."""
    from verify.report.pdf import print_pdf

    pdf = print_pdf(tiny_report.read_bytes(), browser=_BROWSER)
    assert pdf[:5] == b"%PDF-" and pdf.count(b"/Type /Page") + pdf.count(b"/Type/Page") >= 1
