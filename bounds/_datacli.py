"""The data options every sub-command shares: one set of names, one loader, one audit rule.

``implicit-verify bounds``, ``run``, ``report``, ``sweep`` and ``figure1`` read data through
:func:`bounds.load_dataset` with the options added by :func:`add_data_options`, so a data set or
file format added once (:mod:`bounds.datasets`) is available everywhere, with the same
preprocessing and the same G22 Assumption 2 audit.

Assumption 2 (unit rows, no parallel pair, no zero row) failing is an error by default
(:func:`require_assumption2`): the message names the option that fixes it (``--normalise``,
``--perturb-parallel``), and ``--allow-assumption-violation`` runs anyway (the record and the
report then carry the audit's findings).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bounds._args import MAX_DIM, MAX_SEED, parse_float, parse_int
from bounds._defaults import DEFAULTS
from bounds._errors import InvalidArgument, invalid

__all__ = ["DATA_VALUES", "add_data_options", "check_data_value", "dataset_from_args",
           "require_assumption2", "data_option_message", "data_argv"]

#: the ``--data`` values, for help texts and messages.
DATA_VALUES = ("synthetic, digits, digits-all, breast-cancer, mnist (bundled), idx:DIR, "
               "fashion-mnist:DIR, cifar10:DIR, svhn:DIR|FILE, or a .npz/.npy/.csv file")

#: library argument of :func:`bounds.load_dataset` → option.
_OPTIONS = {"n": "--n", "d": "--d", "seed": "--data-seed", "n_test": "--n-test",
            "test_fraction": "--test-fraction", "labels": "--labels", "classes": "--classes",
            "data": "--data", "path": "--data", "noise": "--perturb-parallel",
            "project_d": "--project-d", "project_seed": "--project-seed"}


def add_data_options(group: Any, *, default: str | None = DEFAULTS["data"], n: bool = True,
                     defaults_note: str = "") -> None:
    """Add ``--data``, ``--n``, ``--d``, ``--data-seed``, ``--labels``, ``--n-test``,
    ``--test-fraction``, ``--classes``, ``--normalise``, ``--perturb-parallel``,
    ``--project-d``, ``--project-seed`` and ``--allow-assumption-violation`` to ``group`` (a parser or an argument group).
    ``n=False`` leaves out ``--n`` (a sweep's ``--n`` is a grid)."""
    when = (f"default: {default}" if default is not None
            else f"default: {DEFAULTS['data']} unless --synthetic")
    group.add_argument("--data", default=default,
                       help=f"data set: {DATA_VALUES} ({when}){defaults_note}")
    if n:
        group.add_argument("--n", default=None,
                           help="training samples (default: synthetic 32; digits 128 in "
                                "report, the whole training split in run; mnist and image "
                                "files 1000, half per class; files: all rows)")
    group.add_argument("--d", default=None, help="input dimension of synthetic data (default: 8)")
    group.add_argument("--data-seed", default=None,
                       help="seed of the synthetic draw, the bundled sets' split and the image "
                            "sets' class-balanced draw (default: 0)")
    group.add_argument("--labels", default="pm1", choices=("pm1", "gaussian"),
                       help="synthetic labels: ±1 or N(0, 1) (default: pm1)")
    group.add_argument("--n-test", default=None,
                       help="test samples: synthetic (default 0) and image sets (default: 1000 "
                            "when the source has a test split, else 0)")
    group.add_argument("--test-fraction", default="0.5",
                       help="digits, digits-all, breast-cancer: fraction held out as the test "
                            "set (default: 0.5)")
    group.add_argument("--classes", default="0,1",
                       help="image sets: the two classes, labels −1 and +1 (default: 0,1)")
    group.add_argument("--normalise", action="store_true",
                       help="files: scale every row to unit norm (G22 Assumption 2)")
    group.add_argument("--perturb-parallel", action="store_true", default=None,
                       help="add N(0, 1e-3²) noise to one row of every parallel pair (the "
                            "paper's remedy; always on for the image sets)")
    group.add_argument("--project-d", default=None, metavar="D",
                       help="project the inputs to D dimensions by a fixed Gaussian matrix, then "
                            "unit rows (changes d at fixed n; default: no projection)")
    group.add_argument("--project-seed", default=None, metavar="S",
                       help="seed of the --project-d matrix (default 0)")
    group.add_argument("--allow-assumption-violation", action="store_true",
                       help="run even when G22 Assumption 2 fails on the data (non-unit, "
                            "parallel or zero rows); the record and report say so")


def data_argv(args: argparse.Namespace) -> list[str]:
    """The data options given on the command line other than ``--data`` and ``--n``, as
    arguments (for a report's reproducing command)."""
    out: list[str] = []
    for attr, opt in (("d", "--d"), ("data_seed", "--data-seed"), ("n_test", "--n-test"),
                      ("project_d", "--project-d"), ("project_seed", "--project-seed")):
        if getattr(args, attr, None) is not None:
            out += [opt, str(getattr(args, attr))]
    if getattr(args, "labels", "pm1") != "pm1":
        out += ["--labels", str(args.labels)]
    if str(getattr(args, "test_fraction", "0.5")) != "0.5":
        out += ["--test-fraction", str(args.test_fraction)]
    if str(getattr(args, "classes", "0,1")) != "0,1":
        out += ["--classes", str(args.classes)]
    for attr, opt in (("normalise", "--normalise"), ("perturb_parallel", "--perturb-parallel"),
                      ("allow_assumption_violation", "--allow-assumption-violation")):
        if getattr(args, attr, None):
            out.append(opt)
    return out


def check_data_value(value: Any, option: str = "--data") -> None:
    """A ``--data`` value that names nothing is refused before any work."""
    from bounds.datasets import DATASETS, IMAGE_PREFIXES, is_image_source

    text = str(value)
    if text in DATASETS or is_image_source(text):
        return
    if ":" in text and text.partition(":")[0] in IMAGE_PREFIXES:
        return  # prefix with an empty path: the loader's message says what is missing
    if Path(text).is_file():
        return
    raise invalid(option, text, "neither a data set of this toolkit nor an existing file",
                  f"use {DATA_VALUES}")


def data_option_message(exc: InvalidArgument, data: str) -> InvalidArgument:
    """The loader's ``argument=value: …`` message with the argument replaced by its option; a
    problem inside a file (``X``, ``y``, …) is prefixed with ``--data FILE``."""
    msg = str(exc)
    head, sep, rest = msg.partition("=")
    if sep and head in _OPTIONS:
        return InvalidArgument(_OPTIONS[head] + sep + rest)
    return InvalidArgument(f"--data {data}: {msg}")


def _opt_int(args: argparse.Namespace, attr: str, option: str, minimum: int, maximum: int
             ) -> int | None:
    v = getattr(args, attr, None)
    return None if v is None else parse_int(option, v, minimum, maximum)


def dataset_from_args(args: argparse.Namespace, *, n: int | None = None,
                      n_default: int | None = None, seed_default: int = 0,
                      allow_large: bool = False, require_labels: bool = True) -> Any:
    """The :class:`~bounds.datasets.Dataset` the options describe (errors name the options).

    ``n`` overrides ``--n`` (a sweep's grid value); ``n_default`` applies to the bundled and
    synthetic sets when ``--n`` is not given; ``seed_default`` when ``--data-seed`` is not
    given."""
    from bounds.datasets import load_dataset

    check_data_value(args.data)
    if n is None:
        n = _opt_int(args, "n", "--n", 1, MAX_DIM)
    if n is None and n_default is not None and (str(args.data) in ("synthetic", "digits",
                                                                   "digits-all", "breast-cancer")):
        n = n_default
    d = _opt_int(args, "d", "--d", 1, MAX_DIM)
    seed = _opt_int(args, "data_seed", "--data-seed", 0, MAX_SEED)
    n_test = _opt_int(args, "n_test", "--n-test", 0, MAX_DIM)
    project_d = _opt_int(args, "project_d", "--project-d", 1, MAX_DIM)
    project_seed = _opt_int(args, "project_seed", "--project-seed", 0, MAX_SEED)
    tf = parse_float("--test-fraction", getattr(args, "test_fraction", 0.5), low=0.0, high=1.0,
                     high_open=True, fix="use e.g. --test-fraction 0.5")
    try:
        classes = tuple(int(c) for c in str(getattr(args, "classes", "0,1")).split(","))
    except ValueError:
        classes = ()
    if len(classes) != 2:
        raise invalid("--classes", getattr(args, "classes", None), "expected two classes",
                      "use e.g. --classes 0,1")
    try:
        return load_dataset(args.data, n=n, d=d, seed=seed_default if seed is None else seed,
                            labels=getattr(args, "labels", "pm1"), n_test=n_test,
                            test_fraction=tf, normalise=bool(getattr(args, "normalise", False)),
                            perturb_parallel=getattr(args, "perturb_parallel", None),
                            allow_large=allow_large, classes=(classes[0], classes[1]),
                            require_labels=require_labels, project_d=project_d,
                            project_seed=0 if project_seed is None else project_seed)
    except InvalidArgument as exc:
        raise data_option_message(exc, str(args.data)) from None


def require_assumption2(X: Any, args: argparse.Namespace, *, data: str | None = None) -> Any:
    """Audit G22 Assumption 2 on ``X``; a failure is an error unless
    ``--allow-assumption-violation``.  Returns the :class:`~bounds.DataAudit`."""
    from bounds._data import audit_data

    audit = audit_data(X)
    if audit.ok or getattr(args, "allow_assumption_violation", False):
        return audit
    fixes = []
    if not audit.unit_norm:
        fixes.append("--normalise (scale rows to unit norm)")
    if audit.parallel_pairs:
        fixes.append("--perturb-parallel (the paper's noise remedy)")
    if audit.zero_rows:
        fixes.append("remove the zero rows")
    fixes.append("or --allow-assumption-violation to run anyway")
    raise invalid("--data", data if data is not None else getattr(args, "data", "?"),
                  "G22 Assumption 2 fails: " + "; ".join(audit.messages()),
                  "pass " + ", ".join(fixes))
