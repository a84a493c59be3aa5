"""Tests of the report renderer (``verify.report.render``) and ``implicit-verify report``.

Two kinds of input:

* a **hand-made schema fixture** (:func:`fixture_run`) that follows ``docs/CONTRACTS.md``'s
  ``record.json`` layout and exercises edge cases (violated, vacuous, inconclusive verdicts,
  missing test loss, NaN gaps in expensive observables).  It is *input*, never the expected
  output of the code under test;
* a **real run** made once per module with ``verify.run_gd`` (tiny sizes) and saved to disk, then
  read back, so the renderer is tested on what the toolkit actually writes.
"""

from __future__ import annotations

import html.parser
import json
import math
import re

import numpy as np
import pytest

import verify.report as R

PNG_SIG = b"\x89PNG\r\n\x1a\n"


# ============================================================================ fixture
def fixture_run(m: int, *, steps: int = 30, violated: bool = False, vacuous: bool = True,
                test: bool = True, lam0: float = 0.05) -> R.ReportRun:
    """A schema-conformant record + trace, hand-made (numbers are plausible, not computed)."""
    k = np.arange(steps + 1, dtype=float)
    rate = 1 - 0.02 * (1 + m / 256)
    e0 = 3.0
    resid = e0**2 * rate**k
    sqrtm = math.sqrt(m)
    expensive = np.where(k % 5 == 0, 1.0, np.nan)
    trace = {
        "step": k,
        "time": k * 0.01,
        "loss": 0.5 * resid,
        "residual_sq": resid,
        "contraction": (0.2 + 1e-4 * (1 - rate**k)) * expensive,
        "lambda_min_G": (0.03 + 0.001 * np.cos(k)) * expensive,
        "lambda_min_H": (0.06 + 0.001 * np.cos(k)) * expensive,
        "lambda_min_K": (0.05 + 0.001 * np.cos(k)) * expensive,
        "u_norm": sqrtm + 0.1 * (1 - rate**k),
        "v_norm": sqrtm + 0.05 * (1 - rate**k),
        "W_norm": (1.5 * sqrtm) * np.ones_like(k),
        "A_norm": (2.0 * sqrtm) * np.ones_like(k),
        "u_move": 0.1 * (1 - rate**k),
        "v_move": 0.05 * (1 - rate**k),
        "W_move": 0.02 * (1 - rate**k),
        "A_move": 0.01 * (1 - rate**k),
    }
    if test:
        trace["test_loss"] = 0.6 * resid + 0.1
    else:
        trace["test_loss"] = np.full_like(k, np.nan)
    c = 2.05
    bounds = [
        {"name": "gamma_max", "label": "G22 Thm 3.2 (Lemma 2.2 with γ0 = ½)",
         "latex": r"\min\left(\frac{1}{2}, \frac{1}{4 c}\right)", "value": 1 / (4 * c),
         "provenance": "paper", "hidden": [], "description": "γ bound"},
        {"name": "width_thm32", "label": "G22 Thm 3.2 (as printed)",
         "latex": r"\frac{C_{\mathrm{width}} n^{2} \log{\left(\frac{n}{\delta} \right)}}{\lambda_0}",
         "value": 4.0e5, "provenance": "hidden", "hidden": ["C_width"], "description": "printed"},
        {"name": "width_lemma36", "label": "G22 Lemma 3.6 (hypothesis)",
         "latex": r"\frac{C c^{2} n \|X\|^{2} \|e_0\|^{2}}{\lambda_0^{3}}", "value": 7.0e8,
         "provenance": "hidden", "hidden": ["C_width_lemma"], "description": "lemma"},
        {"name": "weird", "label": "unparseable",
         "latex": r"\begin{cases} 1 & x \end{cases}", "value": float("nan"),
         "provenance": "derived", "hidden": [], "description": "mathtext cannot draw this"},
        {"name": "u_norm_max", "label": "G22 Lemma 3.6(ii)",
         "latex": r"\frac{32 c \sqrt{n} \|e_0\|}{\lambda_0}", "value": 40.0 if m > 1000 else 400.0,
         "provenance": "paper", "hidden": [], "description": "‖u‖ bound"},
    ]
    hyp = ["width_lemma36"] if vacuous else []

    def claim(name, label, obs, sense, bound, status=None, first=None):
        y = trace[obs]
        yy = y[np.isfinite(y)]
        worst = float(yy.max() if sense == "le" else yy.min())
        ratio = worst / bound if sense == "le" else bound / worst
        st = status or ("vacuous" if vacuous else ("holds" if ratio <= 1 else "violated"))
        return {"name": name, "label": label, "kind": "claim", "status": st, "observable": obs,
                "sense": sense, "observed": worst, "bound": bound, "ratio": ratio,
                "slack": (1 / ratio) if ratio <= 1 else None, "first_violation_step": first,
                "worst_step": int(k[-1]), "hypotheses_failed": hyp, "message": ""}

    verdicts = [
        {"name": "data", "label": "G22 Assumption 2", "kind": "assumption", "status": "holds",
         "observable": None, "sense": None, "observed": None, "bound": None, "ratio": None,
         "slack": None, "first_violation_step": None, "worst_step": None,
         "hypotheses_failed": [], "message": "unit norm, no parallel pair"},
        {"name": "gamma", "label": "G22 Thm 3.2", "kind": "condition", "status": "holds",
         "observable": "gamma", "sense": "le", "observed": 0.1, "bound": 1 / (4 * c),
         "ratio": 0.1 * 4 * c, "slack": 1 / (0.1 * 4 * c), "first_violation_step": None,
         "worst_step": None, "hypotheses_failed": [], "message": ""},
        {"name": "width_thm32", "label": "G22 Thm 3.2 (as printed)", "kind": "condition",
         "status": "violated", "observable": "m", "sense": "ge", "observed": m, "bound": 4.0e5,
         "ratio": 4.0e5 / m, "slack": None, "first_violation_step": None, "worst_step": None,
         "hypotheses_failed": [], "message": ""},
        {"name": "width_lemma36", "label": "G22 Lemma 3.6 (hypothesis)", "kind": "condition",
         "status": "violated", "observable": "m", "sense": "ge", "observed": m, "bound": 7.0e8,
         "ratio": 7.0e8 / m, "slack": None, "first_violation_step": None, "worst_step": None,
         "hypotheses_failed": [], "message": ""},
        claim("lemma36_i", "G22 Lemma 3.6(i)", "lambda_min_G", "ge", lam0 / 2),
        claim("lemma36_ii", "G22 Lemma 3.6(ii)", "u_norm", "le",
              3.0 if violated else 400.0, status="violated" if violated else None,
              first=0 if violated else None),
        claim("lemma36_v", "G22 Lemma 3.6(v)", "A_norm", "le", 2 * c * sqrtm),
        claim("W_move", "G22 Lemma 3.6 proof", "W_move", "le", 5.0),
        claim("A_move", "G22 Lemma 3.6 proof", "A_move", "le", 2.5),
        claim("lambda_min_H", "G22 Lemma 3.1 + Lemma 3.6(i)", "lambda_min_H", "ge", lam0 / 2),
        {"name": "never", "label": "G22 Lemma 3.6 proof", "kind": "claim",
         "status": "inconclusive", "observable": "Z_step", "sense": "le", "observed": None,
         "bound": 1.0, "ratio": None, "slack": None, "first_violation_step": None,
         "worst_step": None, "hypotheses_failed": [], "message": "not recorded"},
    ]
    record = {
        "schema": "implicit-verify/run/1",
        "config": {"m": m, "gamma": 0.1, "step": 0.5, "steps": steps, "seed": 0, "mode": "gd",
                   "device": "cpu", "dtype": "float64", "record_every": 1,
                   "expensive_every": 5, "target_loss": None, "solver": "picard",
                   "tol": 1e-12, "max_iter": 500, "delta": 0.01, "c_source": "measured"},
        "data": {"name": "fixture", "source": "hand-made test fixture", "n": 20, "d": 5,
                 "n_test": 10 if test else 0, "seed": 1, "unit_norm_normalised": True,
                 "perturbed_pairs": []},
        "environment": {"python": "3.x", "torch": "x", "numpy": "x", "scipy": "x",
                        "sympy": "x", "implicit_verify": "0", "device_name": "cpu",
                        "platform": "test"},
        "command": f"implicit-verify run --width {m}",
        "status": "max_steps", "status_message": "ran all steps", "steps_done": steps,
        "wall_time_s": 0.5,
        "symbols": {"n": 20, "d": 5, "m": m, "gamma": 0.1, "alpha": 0.5, "delta": 0.01,
                    "lambda0": lam0, "c": c, "c_source": "measured", "c_tail": 3.1,
                    "c_measured": c, "X_norm": 3.5, "e0_norm": e0},
        "hidden_constants": {"C_width": 1.0, "C_width_lemma": 1.0, "C_step": 1.0},
        "audit": {"n": 20, "d": 5, "unit_norm": True, "max_norm_dev": 1e-16,
                  "max_abs_cos": 0.93, "worst_pair": [3, 7], "parallel_pairs": []},
        "bounds": bounds,
        "verdicts": verdicts,
        "rates": {"observed_rate": rate, "theory_rate": 1 - 0.5 * lam0 / 2,
                  "path_rate": 1 - 0.5 * 0.06, "fit_range": [0, steps], "tighter": "path"},
        "known_issues": [{"item": "1", "text": "eq. 14 mismatch (fixture)", "value": 0.8}],
    }
    return R.ReportRun(record=record, trace=trace, run_dir=f"/tmp/fixture/m{m}")


def fixture_runs(**kw) -> list[R.ReportRun]:
    return [fixture_run(m, **kw) for m in (64, 16, 32)]  # unsorted on purpose


# ============================================================================ helpers
_VOID = {"meta", "img", "br", "hr", "input", "link", "col", "wbr", "source", "area", "base"}


class _Checker(html.parser.HTMLParser):
    """Tag balance and no external resources."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.external: list[str] = []
        self.tags: dict[str, int] = {}
        self.imgs = 0

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k in ("src", "href") and v and not (v.startswith("data:") or v.startswith("#")):
                self.external.append(v)
        if tag in ("script", "link", "iframe"):
            self.external.append(tag)
        if tag == "img":
            self.imgs += 1
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}>, open: {self.stack[-3:]}")
            return
        self.stack.pop()


def check_html(text: str) -> _Checker:
    p = _Checker()
    p.feed(text)
    p.close()
    assert not p.errors, p.errors[:5]
    assert not p.stack, f"unclosed tags {p.stack}"
    assert not p.external, f"external resources: {p.external[:5]}"
    assert "http://" not in text and "https://" not in text
    return p


def check_png(data: bytes) -> None:
    import io

    import matplotlib.image as mpimg

    assert data[:8] == PNG_SIG
    img = mpimg.imread(io.BytesIO(data), format="png")
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    assert float(np.std(img[..., :3])) > 0.01  # not blank


#: the level-2 parts in reading order (issue 17): headline, figure 1, verdicts, other figures,
#: constants/audit/known issues, then the folded details.
SECTIONS = ("At a glance", "Summary in full sentences", "Figure 1: loss and contraction",
            "Verdicts", "Figures", "Constants and bounds", "Assumption audit",
            "Known issues in the paper", "What was verified", "Environment and runs")


# ============================================================================ fixture tests
def test_summary_is_generated_from_verdicts():
    s = R.build_summary(fixture_runs())
    assert s["schema"] == R.REPORT_SCHEMA
    assert s["widths"] == [16, 32, 64]
    text = "\n".join(s["summary"])
    # width conditions fail by computed factors (4e5/64 = 6250)
    assert "None of the 2 width conditions is met at any width" in text
    assert "6250×" in text
    assert "vacuous" in text  # hypotheses failed
    assert "are vacuous (a hypothesis is not met) but were observed to hold" in text
    assert "were violated" not in text  # vacuous claims are never counted as violated
    assert "Rate:" in text
    # change the data → the text changes accordingly
    s2 = R.build_summary(fixture_runs(violated=True, vacuous=False))
    t2 = "\n".join(s2["summary"])
    assert "was violated with every hypothesis met" in t2
    assert "Lemma 3.6(ii) at m ∈ {16, 32, 64} (worst ratio" in t2
    assert "first among the checked steps at step 0" in t2
    assert "vacuous" not in t2


def _table_rows(md: str, heading: str) -> list[list[str]]:
    block = md.split(heading, 1)[1].split("\n\n", 2)[1]
    rows = [ln for ln in block.splitlines() if ln.startswith("|")][2:]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in rows]


@pytest.mark.parametrize("kw", [{}, {"violated": True, "vacuous": False},
                                {"violated": True}])
def test_summary_counts_equal_the_verdict_table(kw):
    """Every "k of the n claims …" sentence counts exactly the rows of the rendered verdict
    table whose cells all carry that sentence's verdict word."""
    import re

    from verify.report.findings import _BUCKETS

    s = R.build_summary(fixture_runs(**kw))
    md = R.render_markdown(s)
    rows = _table_rows(md, "### Claims along the trajectory")
    words = []
    for r in rows:
        cells = {re.sub(r"\s*\([^()]*\)$", "", c.replace("**", "")).strip()
                 for c in r[2:-1]}  # last column: the figure it is shown in
        words.append(cells.pop() if len(cells) == 1 else None)
    n = len(rows)
    lines = s["summary"]
    seen = 0
    for word, phrase in _BUCKETS:
        head = phrase.split("{")[0].split(":")[0].strip()
        rest = re.escape(head.split(" ", 1)[1]) if " " in head else ""
        verb = {"are": "(are|is)", "were": "(were|was)"}.get(head.split(" ")[0],
                                                          re.escape(head.split(" ")[0]))
        hits = [ln for ln in lines
                if re.match(rf"^\d+ of the {n} claims {verb}{' ' + rest if rest else ''}", ln)]
        expected = sum(1 for w in words if w == word.replace("**", ""))
        if expected == 0:
            assert not hits, (word, hits)
            continue
        assert len(hits) == 1, (word, lines)
        k = int(hits[0].split(" ", 1)[0])
        assert k == expected, (word, k, expected)
        seen += k
    mixed = [ln for ln in lines if "different verdicts at different widths" in ln]
    n_mixed = sum(1 for w in words if w is None)
    assert (int(mixed[0].split(" ", 1)[0]) if mixed else 0) == n_mixed
    assert seen + n_mixed == n  # (the fixture has no probabilistic events)


def test_known_issue_numbers():
    s = R.build_summary(fixture_runs())
    init = s["known_issues"]["init_norm"]
    assert {r["m"] for r in init} == {16, 32, 64}
    r16 = next(r for r in init if r["m"] == 16)
    assert r16["m_limit"] == pytest.approx(400.0**2)
    assert r16["fails_at_init"] is False
    w = s["known_issues"]["width_conditions"]
    assert all(x["binding"] == "width_lemma36" for x in w)
    s2 = R.build_summary(fixture_runs(violated=True))
    assert any(r["fails_at_init"] for r in s2["known_issues"]["init_norm"])


def test_markdown_sections_and_tables():
    runs = fixture_runs(test=False)
    md = R.render_markdown(R.build_summary(runs))
    for sec in SECTIONS:
        assert f"## {sec}" in md
    pos = [md.index(f"## {sec}\n") for sec in SECTIONS]
    assert pos == sorted(pos), "Markdown sections out of reading order"
    for name in R.FIGURES:
        assert f"(figures/{name})" in md
    # tables: every row of a table has the header's column count
    for block in md.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.startswith("|")]
        if len(lines) >= 2:
            ncol = {len(re.split(r"(?<!\\)\|", ln)) for ln in lines}
            assert len(ncol) == 1, block[:300]
    assert "C_width" in md and "= 1" in md
    assert "VIOLATED" not in md or "**VIOLATED**" in md


@pytest.fixture(scope="module")
def fixture_figures() -> dict[str, bytes]:
    return R.render_figures(fixture_runs(test=False), dpi=50)


def test_figures_are_valid_pngs_with_gaps_and_missing_data(fixture_figures):
    assert set(fixture_figures) == set(R.FIGURES)
    for data in fixture_figures.values():
        check_png(data)


def test_html_self_contained_and_well_formed(fixture_figures):
    runs = fixture_runs()
    s = R.build_summary(runs, R.ReportMeta(command="implicit-verify report --widths 16,32,64",
                                           findings=({"item": 1, "text": "finding <b>x</b>"},)))
    page = R.render_html(s, fixture_figures)
    p = check_html(page)
    for sec in SECTIONS:
        assert f">{sec}</h2>" in page
    pos = [page.index(f">{sec}</h2>") for sec in SECTIONS]
    assert pos == sorted(pos), "HTML sections out of reading order"
    assert p.imgs >= len(R.FIGURES) + 3  # figures + formula images
    assert "finding &lt;b&gt;x&lt;/b&gt;" in page  # escaped
    assert r"\begin{cases}" in page  # unparseable formula shown as source


def test_json_summary_strict():
    out = R.render_report(fixture_runs(), formats=("json",))
    assert set(out) == {"summary.json"}
    s = json.loads(out["summary.json"].decode())
    assert s["schema"] == R.REPORT_SCHEMA
    assert len(s["runs"]) == 3
    assert "NaN" not in out["summary.json"].decode()


def test_bad_format_and_empty_runs():
    from bounds import InvalidArgument

    with pytest.raises(InvalidArgument, match="formats"):
        R.render_report([fixture_run(8)], formats=("docx",))
    with pytest.raises(InvalidArgument, match="runs"):
        R.build_summary([])


def test_fmt():
    assert R.fmt(None) == "—"
    assert R.fmt(float("nan")) == "NaN"
    assert R.fmt(1234567.0) == "1.235e6"
    assert R.fmt(0.5) == "0.5"
    assert R.fmt(3) == "3"
    assert R.fmt(True) == "yes"


# ============================================================================ real runs
@pytest.fixture(scope="module")
def digits():
    from verify.experiment.data import load_dataset

    return load_dataset("digits", n=14, seed=0)


@pytest.fixture(scope="module")
def saved_runs(tmp_path_factory, digits):
    """Two tiny real runs written by ``run_gd`` and read back from disk."""
    from verify.experiment.gd import RunConfig, load_run, run_gd

    root = tmp_path_factory.mktemp("runs")
    dirs = []
    for m in (8, 16):
        d = root / f"m{m}"
        run_gd(digits, config=RunConfig(m=m, gamma=0.1, step=0.005, steps=4, seed=1),
               out_dir=d, progress=False)
        dirs.append(d)
    runs = []
    for d in dirs:
        res = load_run(d)
        runs.append(R.ReportRun(record=res.record, trace=res.trace, run_dir=str(d)))
    return dirs, runs


def test_digits_loader_offline(digits):
    from verify.experiment.data import load_dataset

    assert digits.d == 64 and digits.n == 14 and digits.n_test > 0
    assert np.allclose(np.linalg.norm(digits.X, axis=1), 1.0)
    assert set(np.unique(digits.y)) <= {-1.0, 1.0}
    full = load_dataset("digits")
    assert full.n + full.n_test == 360  # classes 0 and 1 of sklearn's bundled load_digits


def test_render_from_saved_records(saved_runs):
    _, runs = saved_runs
    out = R.render_report(runs, R.ReportMeta(command="implicit-verify report --from …"), dpi=50)
    assert {"report.md", "report.html", "summary.json"} <= set(out)
    md = out["report.md"].decode()
    for sec in SECTIONS:
        assert f"## {sec}" in md
    for name in R.FIGURES:
        check_png(out[f"figures/{name}"])
    check_html(out["report.html"].decode())
    s = json.loads(out["summary.json"])
    assert s["widths"] == [8, 16]
    # every verdict of every run appears in the JSON summary and in the Markdown details
    for r, rs in zip(runs, s["runs"], strict=True):
        assert len(rs["verdicts"]) == len(r.record["verdicts"])
        for v in r.record["verdicts"]:
            if v["kind"] in ("condition", "claim"):
                assert f"`{v['name']}`" in md
    # the summary mentions the theorem and the widths, generated from the records
    assert "m ∈ {8, 16}" in s["summary"][0]
    # LaTeX of every bound appears (as source) in both formats
    b0 = runs[0].record["bounds"][0]
    assert b0["name"] in md


def _cli(argv):
    """``implicit-verify`` (the dispatcher of verify/cli.py) with ``argv``; exit status."""
    from verify.cli import main

    return main(argv)


def test_cli_smoke_run_and_rerender(tmp_path, capsys):
    out = tmp_path / "rep"
    argv = ["report", "--widths", "8,16", "--steps", "5", "--n", "12", "--out", str(out),
            "--dpi", "40", "--quiet"]
    assert _cli(argv) == 0
    for f in ("report.md", "report.html", "summary.json", *(f"figures/{n}" for n in R.FIGURES),
              "runs/m8/record.json", "runs/m16/trace.npz", "runs/m8/report_findings.json"):
        assert (out / f).is_file(), f
    check_html((out / "report.html").read_text(encoding="utf-8"))
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["command"].startswith("implicit-verify report") and "--widths 8,16" in s["command"]
    # known issue 1 was evaluated on the final parameters: corrected Gram = Jacobian Gram
    f1 = [f for f in s["known_issues"]["findings"] if f["item"] == 1 and f.get("value")]
    assert f1 and f1[0]["value"]["rel_err_corrected_vs_jacobian"] < 1e-8
    assert f1[0]["value"]["rel_err_printed_vs_jacobian"] > 1e-3
    assert not list(tmp_path.glob(".rep.partial-*"))  # staging directory renamed away
    # never overwrite without --force
    capsys.readouterr()
    assert _cli(argv) == 2
    err = capsys.readouterr().err
    assert "out=" in err and "--force" in err
    # re-render from the saved runs, no re-run
    out2 = tmp_path / "rep2"
    assert _cli(["report", "--from", str(out / "runs/m8"), str(out / "runs/m16"),
                 "--out", str(out2), "--format", "md,json", "--dpi", "40", "--quiet"]) == 0
    assert (out2 / "report.md").is_file() and not (out2 / "report.html").exists()
    s2 = json.loads((out2 / "summary.json").read_text(encoding="utf-8"))
    assert s2["summary"][0] == s["summary"][0]
    assert "--from" in s2["command"]
    # --force replaces
    assert _cli([*argv, "--force", "--format", "json"]) == 0
    assert not (out / "report.md").exists() and (out / "summary.json").is_file()


@pytest.mark.parametrize("opt,value", [("--widths", "8,x"), ("--widths", "8,8"), ("--step", "-1"),
                                       ("--step", "fast"), ("--format", "docx"), ("--steps", "0")])
def test_cli_rejects_bad_options_before_any_work(tmp_path, capsys, opt, value):
    out = tmp_path / "rep"
    assert _cli(["report", opt, value, "--out", str(out), "--quiet"]) == 2
    assert f"{opt.lstrip('-')}=" in capsys.readouterr().err
    assert not out.exists()
    assert not list(tmp_path.iterdir())  # no staging directory left behind
