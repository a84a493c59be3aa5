"""One set of defaults (issue 20 item 4): every surface — the ``bounds``, ``run``, ``report`` and
``sweep`` parsers, :class:`verify.RunConfig`, :class:`verify.sweep.SweepSpec`,
:func:`verify.sweep.fit_width_threshold` and the data loader — takes its default from
:mod:`bounds._defaults`, and a default that differs by command is listed there with its reason
and said in that command's ``--help``."""

from __future__ import annotations

import argparse
import dataclasses
import inspect

import pytest

from bounds._defaults import DEFAULTS, PER_COMMAND, default_for
from verify.cli import build_parser

# option dest → setting of bounds._defaults, per command
OPTIONS = {
    "run": {"data": "data", "m": "m", "gamma": "gamma", "step": "step", "steps": "steps",
            "seed": "seed", "mode": "mode", "device": "device", "dtype": "dtype",
            "solver": "solver", "tol": "tol", "max_iter": "max_iter", "delta": "delta",
            "c_source": "c_source", "test_fraction": "test_fraction"},
    "report": {"data": "data", "gamma": "gamma", "step": "step", "steps": "steps",
               "seed": "seed", "device": "device", "dtype": "dtype", "n_boot": "n_boot",
               "test_fraction": "test_fraction"},
    "bounds": {"delta": "delta", "mode": "mode", "test_fraction": "test_fraction"},
    "sweep": {"n_boot": "n_boot"},
}


def _sub(name: str) -> argparse.ArgumentParser:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise AssertionError("no sub-commands")


def _same(parsed: object, expected: object) -> bool:
    if isinstance(expected, (int, float)) and not isinstance(expected, bool):
        return float(str(parsed)) == float(expected)
    return str(parsed) == str(expected)


@pytest.mark.parametrize("command", sorted(OPTIONS))
def test_parser_defaults_come_from_the_table(command: str) -> None:
    defaults = {a.dest: a.default for a in _sub(command)._actions}
    wrong = {dest: (defaults[dest], default_for(command, setting))
             for dest, setting in OPTIONS[command].items()
             if not _same(defaults[dest], default_for(command, setting))}
    assert not wrong, wrong


def test_the_per_command_defaults_are_the_documented_ones() -> None:
    # what a user reads in the README / help: these three differ on purpose
    assert default_for("report", "step") == 0.005 and DEFAULTS["step"] == "auto"
    assert default_for("sweep", "data") == "digits-all" and DEFAULTS["data"] == "digits"
    assert default_for("sweep", "steps") == 2000 and DEFAULTS["steps"] == 300
    for (command, setting), (_, why) in PER_COMMAND.items():
        assert why and setting in DEFAULTS or setting in ("n", "synthetic_n_test"), (command, setting)


@pytest.mark.parametrize("command, option, setting", [
    ("report", "--step", "step"), ("sweep", "--data", "data"), ("sweep", "--steps", "steps")])
def test_help_says_why_a_default_differs(command: str, option: str, setting: str) -> None:
    text = " ".join(_sub(command).format_help().split())
    assert " ".join(PER_COMMAND[(command, setting)][1].split()) in text, option


def test_run_config_and_sweep_spec_defaults() -> None:
    from verify.experiment.config import RunConfig
    from verify.sweep.spec import SweepSpec

    rc = {f.name: f.default for f in dataclasses.fields(RunConfig)}
    for key in ("seed", "mode", "device", "dtype", "solver", "tol", "max_iter", "delta",
                "c_source", "hidden_range", "gf_threshold"):
        assert rc[key] == DEFAULTS[key], key
    ss = {f.name: f.default for f in dataclasses.fields(SweepSpec)}
    for key in ("gamma", "step", "steps", "data_seed", "device", "tol", "max_iter", "classes"):
        assert ss[key] == default_for("sweep", key), key
    from verify.model.network import ImplicitNetwork

    method = inspect.signature(ImplicitNetwork.__init__).parameters["method"].default
    assert method == default_for("ImplicitNetwork", "solver") == "picard" != DEFAULTS["solver"]
    from verify.cli.sweep import _DEFAULTS as sweep_cli

    for key in ("data", "gamma", "step", "steps", "data_seed", "device"):
        assert sweep_cli[key] == default_for("sweep", key), key


def test_threshold_and_data_library_defaults() -> None:
    from bounds.datasets import load_dataset, synthetic_dataset
    from verify.sweep.analysis import DEFAULT_Q
    from verify.sweep.thresholds import fit_width_threshold

    sig = inspect.signature(fit_width_threshold).parameters
    assert tuple(sig["q"].default) == DEFAULTS["quantiles"] == tuple(DEFAULT_Q)
    assert sig["n_boot"].default == DEFAULTS["n_boot"]
    from bounds.datasets import (
        breast_cancer_dataset,
        digits_all_dataset,
        digits_dataset,
        image_dataset,
    )

    for fn in (load_dataset, digits_dataset, digits_all_dataset, breast_cancer_dataset):
        assert inspect.signature(fn).parameters["test_fraction"].default == \
            DEFAULTS["test_fraction"], fn.__name__
    for fn in (load_dataset, image_dataset):
        assert inspect.signature(fn).parameters["classes"].default == DEFAULTS["classes"]
    ds = load_dataset("synthetic")
    assert (ds.n, ds.d) == (DEFAULTS["synthetic_n"], DEFAULTS["synthetic_d"])
    s = inspect.signature(synthetic_dataset).parameters
    assert (s["n"].default, s["d"].default) == (ds.n, ds.d)


def test_run_and_bounds_default_to_the_same_data() -> None:
    """Without --data, run and bounds load the shared default (digits) — the report's data."""
    from bounds._datacli import dataset_from_args

    run_args = _sub("run").parse_args([])
    assert run_args.data == "digits" == default_for("report", "data")
    ds = dataset_from_args(run_args)
    assert ds.name.startswith("digits") and ds.d == 64
    import io
    import json
    from contextlib import redirect_stdout

    from verify.cli import main

    def bounds_json(*argv: str) -> dict:
        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["bounds", "--format", "json", *argv]) == 0
        out = json.loads(buf.getvalue())
        return {k: out[k] for k in ("n", "d", "lambda0", "width_required")}

    plain = bounds_json()
    assert plain == bounds_json("--data", "digits")
    assert (plain["n"], plain["d"]) == (ds.n, ds.d)
