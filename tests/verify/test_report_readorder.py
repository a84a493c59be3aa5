"""The report's reading order and headline card (issue 17), without a browser: the headline is
generated from the verdicts (statuses matched by prefix), its optional lines appear only with
their sections' data, each line links to an element of the page, verdict rows link to their
figure, and the details are folded in HTML but kept in order in Markdown."""

from __future__ import annotations

import copy
import json
import re

import verify.report as R
from tests.verify.test_report import fixture_runs
from verify.report.blocks import Section
from verify.report.sections import SECTIONS, reading_order
from verify.report.sections.headline import headline_lines, headline_text, status_class


def _summary(**kw):
    return R.build_summary(fixture_runs(**kw))


def test_status_classes_match_prefixes():
    assert status_class({"status": "holds"}) == "held"
    assert status_class({"status": "violated"}) == "violated"
    assert status_class({"status": "inconclusive (hidden constant)"}) == "inconclusive"
    assert status_class({"status": "inconclusive (discretisation)"}) == "inconclusive"
    assert status_class({"status": "event did not occur"}) == "event_not_occurred"
    assert status_class({"status": "vacuous (observed: fails)"}) == "failed_vacuous"
    assert status_class({"status": "vacuous (observed: holds)"}) == "held"
    assert status_class({"status": "vacuous", "details": {"observed_status": "violated"}}) \
        == "failed_vacuous"
    assert status_class({"status": "vacuous", "details": {"observed_status": "holds"}}) == "held"
    assert status_class({"status": "vacuous", "details": {"event": True,
                                                         "observed_status": "violated"}}) \
        == "event_not_occurred"
    assert status_class({"status": "vacuous", "details": {"event": True,
                                                         "observed_status": "holds"}}) == "held"
    assert status_class(None) is None


def _counts(s, kind):
    """Per statement name, its worst class over the widths, counted (independently of the
    headline: from the raw statuses)."""
    order = ["violated", "failed_vacuous", "inconclusive", "event_not_occurred", "held", "vacuous"]
    worst: dict[str, str] = {}
    for r in s["runs"]:
        for v in r["verdicts"]:
            if v.get("kind") != kind:
                continue
            c = status_class(v)
            n = str(v["name"])
            if n not in worst or order.index(c) < order.index(worst[n]):
                worst[n] = c
    out: dict[str, int] = {}
    for c in worst.values():
        out[c] = out.get(c, 0) + 1
    return out, len(worst)


def test_headline_counts_agree_with_the_verdicts():
    for kw in ({}, {"violated": True, "vacuous": False}):
        s = _summary(**kw)
        text = headline_text(s)
        assert 3 <= len(text) <= 6
        traj = next(t for t in text if t.startswith("Trajectory:"))
        counts, n = _counts(s, "claim")
        assert f"of {n} claims" in traj
        if counts.get("violated"):
            assert f"{counts['violated']} violated" in traj
        assert f"{counts.get('held', 0)} held" in traj if counts.get("held") else "held" not in traj
        hyp = next(t for t in text if t.startswith("Hypotheses:"))
        conds = {str(v["name"]) for r in s["runs"] for v in r["verdicts"]
                 if v.get("kind") == "condition"}
        assert f"of {len(conds)} conditions" in hyp


def test_vacuous_failures_are_not_called_violated():
    s = _summary()
    runs = copy.deepcopy(s["runs"])
    for r in runs:
        for v in r["verdicts"]:
            if v.get("kind") == "claim":
                v["status"] = "vacuous (observed: fails)"
    traj = next(t for t in headline_text({**s, "runs": runs}) if t.startswith("Trajectory:"))
    assert "violated" not in traj and "failed (claim vacuous" in traj


def test_optional_lines_only_with_their_data():
    s = _summary()
    text = headline_text(s)
    assert not any(t.startswith(("Kernel:", "Width:")) for t in text)
    s2 = {**s, "kernels": {"limit": {"lambda_min_H": 0.5, "lambda0": 0.1}, "per_width": []}}
    k = [t for t in headline_text(s2) if t.startswith("Kernel:")]
    assert len(k) == 1 and "λ_min(H∞) = 0.5" in k[0] and "5×" in k[0]
    ws = {"sweeps": [{"outcomes": [{
        "name": "lemma33_init", "phase": True,
        "laws": [{"q": 0.5, "p": 1.9, "p_lo": 1.5, "p_hi": 2.3}],
        "thresholds": [{"q": 0.5, "n": 64, "kind": "fit", "m_star": 812.0}]}]}]}
    w = [t for t in headline_text({**s, "width_scaling": ws}) if t.startswith("Width:")]
    assert len(w) == 1 and "m*½ = 812" in w[0] and "p = 1.9" in w[0] and "#width-scaling" in w[0]
    assert len(headline_text({**s2, "width_scaling": ws})) <= 6


def test_headline_links_resolve_and_rows_link_figures():
    s = _summary()
    figs = R.render_figures(fixture_runs(), dpi=30)
    page = R.render_html(s, figs, math_images=False)
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = set(re.findall(r'href="#([^"]+)"', page))
    assert links and links <= ids, links - ids
    for line in headline_lines(s):
        assert any(type(x).__name__ == "_Link" for x in line)
    # each claim row of the verdict table names its statement and links to a figure
    verdicts = page.split('id="verdicts-claim"')[1].split("</table>")[0]
    rows = verdicts.split("<tr>")[2:]
    assert rows and all('href="#fig-' in r for r in rows)
    assert all(re.search(r"<td>(G22 )?(Lemma|Thm|Theorem)", r) for r in rows)
    # folded parts: <details> in HTML, headings in the same order in Markdown
    assert page.count("<details") >= 3 and "<script" not in page
    md = R.render_markdown(s)
    order = ["## At a glance", "## Figure 1", "## Verdicts", "## Figures",
             "## Constants and bounds", "## What was verified", "## Details, m = 16"]
    pos = [md.index(t) for t in order]
    assert pos == sorted(pos)
    assert "[claim verdicts](#verdicts-claim)" in md and '<a id="verdicts-claim"></a>' in md


def test_unknown_sections_go_with_the_figures_and_json_has_the_headline():
    keys = [sec.key for sec in reading_order([*SECTIONS, Section("new_thing", lambda s: [])])]
    assert keys.index("figures") < keys.index("new_thing") < keys.index("constants")
    assert keys[:3] == ["title", "headline", "summary"]
    out = R.render_report(fixture_runs(), formats=("json",))
    js = json.loads(out["summary.json"])
    assert js["headline"] and js["headline"][0].startswith("Checked:")
    assert js["schema"] == R.REPORT_SCHEMA and "summary" in js and "runs" in js


def test_pdf_without_browser_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    from verify.cli import main

    monkeypatch.setenv("IMPLICIT_VERIFY_CHROMIUM", str(tmp_path / "no-such-browser"))
    out = tmp_path / "rep"
    assert main(["report", "--format", "md,pdf", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "format=" in err and "Chromium" in err
    assert "apt-get install chromium" in err and "Traceback" not in err
    assert not out.exists() and not list(tmp_path.iterdir())
