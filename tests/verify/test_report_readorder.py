"""The report's reading order and headline card (issue 17), without a browser: the headline is
generated from the verdicts (in the one vocabulary, :class:`bounds.Outcome`), its optional lines appear only with
their sections' data, each line links to an element of the page, verdict rows link to their
figure, and the details are folded in HTML but kept in order in Markdown."""

from __future__ import annotations

import copy
import json
import re

import verify.report as R
from bounds import Outcome
from tests.verify.test_report import fixture_runs
from verify.report.blocks import Section
from verify.report.sections import SECTIONS, reading_order
from verify.report.sections.headline import headline_lines, headline_text, status_class


def _summary(**kw):
    return R.build_summary(fixture_runs(**kw))


def test_status_classes_are_the_one_vocabulary():
    O = Outcome
    cl = {"kind": "claim"}
    assert status_class({**cl, "status": "holds"}) is O.HOLDS
    assert status_class({**cl, "status": "violated"}) is O.VIOLATED
    assert status_class({**cl, "status": "inconclusive",
                         "details": {"inconclusive_reason": "hidden constant"}}) is O.INCONCLUSIVE
    assert status_class({**cl, "status": "vacuous", "details": {"observed_status": "violated"}}) \
        is O.VACUOUS_FAILS
    assert status_class({**cl, "status": "vacuous", "details": {"observed_status": "holds"}}) \
        is O.VACUOUS_HOLDS
    assert status_class({**cl, "status": "vacuous", "details": {"event": True,
                                                                "observed_status": "violated"}}) \
        is O.EVENT_NOT_OCCURRED
    assert status_class({**cl, "status": "vacuous", "details": {
        "event": True, "observed_status": "violated", "structural": "rank"}}) is O.EVENT_IMPOSSIBLE
    assert status_class({**cl, "status": "holds", "details": {"by_construction": "c"}}) \
        is O.BY_CONSTRUCTION
    assert status_class({"kind": "condition", "status": "violated"}) is O.NOT_MET
    assert status_class({"kind": "condition", "status": "holds"}) is O.MET
    assert status_class(None) is None


#: the vocabulary's table (bounds/_verdicts.py), written out independently of the code: raw
#: (status, observed status) of a claim without event or construction notes → its words.
_WORDS = {("holds", None): "holds (hypotheses met)", ("violated", None): "violated",
          ("vacuous", "holds"): "vacuous — observed to hold",
          ("vacuous", "violated"): "vacuous — observed to fail",
          ("inconclusive", None): "inconclusive"}  # followed by its reason in parentheses
_ORDER = ["violated", "vacuous — observed to fail", "inconclusive", "holds (hypotheses met)",
          "vacuous — observed to hold"]


def _counts(s, kind):
    """Per statement name, its worst words over the widths, counted (independently of the
    headline: from the raw statuses)."""
    worst: dict[str, str] = {}
    for r in s["runs"]:
        for v in r["verdicts"]:
            if v.get("kind") != kind:
                continue
            obs = None
            if v["status"] == "vacuous":  # what was observed: its status, else its ratio
                obs = (v.get("details") or {}).get("observed_status") or \
                    ("holds" if v["ratio"] <= 1 else "violated")
            c = _WORDS[(v["status"], obs)]
            n = str(v["name"])
            if n not in worst or _ORDER.index(c) < _ORDER.index(worst[n]):
                worst[n] = c
    out: dict[str, int] = {}
    for c in worst.values():
        out[c] = out.get(c, 0) + 1
    return out, len(worst)


def test_headline_counts_agree_with_the_verdicts():
    for kw in ({}, {"violated": True, "vacuous": False}):
        s = _summary(**kw)
        text = headline_text(s)
        assert 4 <= len(text) <= 7
        traj = next(t for t in text if t.startswith("Trajectory:"))
        counts, n = _counts(s, "claim")
        assert f"of {n} claims" in traj
        for words, k in counts.items():
            assert f"{k} {words}" in traj
        met = counts.get("violated", 0) + counts.get("holds (hypotheses met)", 0)
        assert ("no claim had its hypotheses met" in traj) == (met == 0)
        verdict = text[0]
        assert verdict.startswith("Verdict: ")
        if counts.get("violated"):
            assert f"{counts['violated']} claim" in verdict and "failed with every" in verdict
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
                v["status"] = "vacuous"
                v["details"] = {**(v.get("details") or {}), "observed_status": "violated"}
    text = headline_text({**s, "runs": runs})
    traj = next(t for t in text if t.startswith("Trajectory:"))
    assert "violated" not in traj and "vacuous — observed to fail" in traj
    assert "no claim had its hypotheses met at any width" in traj
    assert text[0].startswith("Verdict: The theorem's hypotheses are not met at any width here")
    assert "so it guarantees nothing" in text[0]


def test_headline_links_resolve_and_rows_link_figures():
    s = _summary()
    figs = R.render_figures(fixture_runs(), dpi=30)
    page = R.render_html(s, figs, math_images=False)
    ids = set(re.findall(r'id="([^"]+)"', page))
    links = set(re.findall(r'href="#([^"]+)"', page))
    assert links and links <= ids, links - ids
    for line in headline_lines(s)[1:]:  # the verdict sentence, then lines that link
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
    assert js["headline"] and js["headline"][0].startswith("Verdict:")
    assert js["headline"][1].startswith("Checked:")
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
