"""``implicit-verify figure1`` end to end at tiny sizes: the report with Figure 1 and the paper's
observations, a SIGTERM mid-width, --resume continuing from the checkpoint, settings checks;
and the observations section on hand-made traces (an independent oracle: orderings and spreads
written into the traces, not computed by the code under test)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from verify.report.model import ReportRun
from verify.report.sections.observations import evaluate_observations

ROOT = Path(__file__).resolve().parents[2]
pytest.importorskip("mlxtend")


def _cli(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", "import sys; from verify.cli import main; "
                             "sys.exit(main())", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _wait(p: subprocess.Popen, timeout: float = 300) -> tuple[int, str, str]:
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


TINY = ["--n", "20", "--n-test", "10", "--widths", "8,16", "--threads", "1", "--quiet"]


def test_figure1_kill_resume_and_report(tmp_path):
    out = tmp_path / "f1"
    p = _cli("figure1", *TINY, "--epochs", "3000", "--out", str(out))
    deadline = time.monotonic() + 240
    while not (out / "runs" / "m16").exists():  # m = 8 finished, m = 16 started
        assert p.poll() is None, p.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    rc, _, err = _wait(p)
    assert rc == 143, err
    assert "--resume" in err and not (out / "report.md").exists()
    rec8 = (out / "runs" / "m8" / "record.json").read_bytes()
    assert json.loads(rec8)["steps_done"] == 3000
    # without --resume the directory is refused, naming --out
    rc, _, err = _wait(_cli("figure1", *TINY, "--epochs", "3000", "--out", str(out)))
    assert rc == 2 and "--out" in err and "--resume" in err
    # other settings are refused on resume, naming the setting
    rc, _, err = _wait(_cli("figure1", *TINY, "--epochs", "100", "--out", str(out), "--resume"))
    assert rc == 2 and "epochs" in err
    rc, stdout, err = _wait(_cli("figure1", *TINY, "--epochs", "3000", "--out", str(out),
                                 "--resume"))
    assert rc == 0, err
    assert (out / "runs" / "m8" / "record.json").read_bytes() == rec8  # finished width re-used
    rec16 = json.loads((out / "runs" / "m16" / "record.json").read_text())
    assert rec16["steps_done"] == 3000 and rec16["schedule"]["resumed_from"] > 0
    md = (out / "report.md").read_text()
    assert "The paper's observations on this run" in md
    assert "Larger m converges faster (paper)" in md and "Larger m tests better (paper)" in md
    summary = json.loads((out / "summary.json").read_text())
    notes = " ".join(summary["notes"])
    assert "γ = 0.1 (an inference" in notes and "1/λ_max(H∞)" in notes
    items = summary["paper_observations"]["items"]
    decided = ("holds on this run", "does not hold on this run")
    assert items[0]["status"] in decided and items[1]["status"] in decided
    assert items[2]["status"] in decided or items[2]["status"].startswith("inconclusive (")
    timing = json.loads((out / "timing.json").read_text())
    assert set(timing["widths"]) == {"8", "16"}
    # one fixed step at every width
    steps = {json.loads((out / "runs" / f"m{m}" / "record.json").read_text())["config"]["step"]
             for m in (8, 16)}
    assert len(steps) == 1


def test_figure1_bad_options_are_one_line():
    for args, opt in ((["--widths", "0"], "--widths"), (["--classes", "3"], "--classes"),
                      (["--data", "nope"], "--data"), (["--gamma", "2"], "--gamma"),
                      (["--data", "idx:/nonexistent"], "--data")):
        rc, _, err = _wait(_cli("figure1", *args, "--out", "/tmp/never-written-f1"))
        assert rc == 2 and opt in err and "Traceback" not in err, (args, err)
        assert len(err.strip().splitlines()) == 1
    assert not Path("/tmp/never-written-f1").exists()


def _run(m: int, loss: list[float], contraction: list[float], test: list[float] | None = None
         ) -> ReportRun:
    k = np.arange(len(loss), dtype=np.float64)
    trace = {"step": k, "loss": np.array(loss), "contraction": np.array(contraction),
             "contraction_lower": np.array(contraction) * 0.99,
             "contraction_exact": np.ones(len(loss))}
    if test is not None:
        trace["test_loss"] = np.array(test)
    return ReportRun(record={"config": {"m": m}}, trace=trace)


def test_observations_on_planted_traces():
    a = _run(500, [10, 5, 2], [0.198, 0.1985, 0.199], [4, 3, 2.5])
    b = _run(1000, [10, 4, 1], [0.198, 0.1982, 0.1984], [4, 2.8, 2.0])
    ev = evaluate_observations([b, a])
    faster, tests, norm = ev["items"]
    assert faster["status"] == "holds on this run" and faster["values"] == [2.0, 1.0]
    assert tests["status"] == "holds on this run"
    assert norm["status"] == "holds on this run"  # ≤ 0.51 % change, below 1
    # the wider network ends with the larger test loss: the observation fails, and says so
    c = _run(1000, [10, 4, 1], [0.198, 0.1982, 0.1984], [4, 3.5, 3.0])
    assert evaluate_observations([a, c])["items"][1]["status"] == "does not hold on this run"
    # a 5 % drift of the scaled norm is not "almost at its initial value"
    d = _run(1000, [10, 4, 1], [0.198, 0.20, 0.2079])
    ev2 = evaluate_observations([a, d])
    assert ev2["items"][2]["status"] == "does not hold on this run"
    assert ev2["items"][1]["status"] == "not evaluated"  # no test set in d
    assert evaluate_observations([a]) is None


def test_norm_observation_certified_by_weyl_or_inconclusive():
    """Between exact evaluations the recorded interval may be too wide to decide 'almost at its
    initial value'; ‖A(k) − A(0)‖₂ (Weyl) then certifies the change where it was computed."""
    m, gamma = 400, 0.1
    c = [0.198, 0.1981, 0.1981, 0.198]
    upper = [0.198, 0.2005, 0.2005, 0.198]  # ±1.3 % bands between the exact ends
    lower = [0.198, 0.1955, 0.1955, 0.198]
    k = np.arange(4.0)

    def run(a_move):
        tr = {"step": k, "loss": np.array([4.0, 3, 2, 1]), "contraction": np.array(upper),
              "contraction_lower": np.array(lower),
              "contraction_exact": np.array([1.0, 0, 0, 1])}
        if a_move is not None:
            tr["A_move"] = np.array(a_move)
        return ReportRun(record={"config": {"m": m, "gamma": gamma}}, trace=tr)

    ref = _run(200, [4.0, 3.5, 3, 2], c, None)
    wide = evaluate_observations([ref, run(None)])["items"][2]
    assert wide["status"].startswith("inconclusive")
    # ‖A(k) − A(0)‖₂ = 0.2 at steps 1, 2: change ≤ γ̃·0.2/c(0) = 0.005·0.2/0.198 ≈ 0.5 %
    a_move = [0.0, 0.2, 0.2, 0.0]
    ok = evaluate_observations([ref, run(a_move)])["items"][2]
    assert ok["status"] == "holds on this run"
    row = next(r for r in ok["rows"] if r["m"] == m)
    assert row["certified_change"] == pytest.approx(gamma / np.sqrt(m) * 0.2 / 0.198, rel=1e-12)
