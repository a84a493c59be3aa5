r"""Instrumented full-batch gradient descent (and small-step gradient flow) on the G22 network.

One GD step on all of ``θ = (A, W, u, v)`` with a fixed step ``α``:

.. math::  θ(k+1) = θ(k) − α ∇L(θ(k)),\qquad L = ½‖ŷ − y‖²,

with the closed-form gradients of G22 Lemma 2.3 (:func:`verify.implicit_gradients`: one forward
and one adjoint equilibrium solve per step).  Both solves are warm-started from the previous
step (``Z(k−1)``, ``B(k−1)``).  ``mode="gf"`` runs the
same updates and reads them as an Euler discretisation of gradient flow at time ``t = kα``:
the gradient-flow theorem (``bounds.g22_spec("gf")``) is checked instead of the GD one, and the
record says how small the step is (``α·λ_max(H(0))``; the discretisation is faithful when this
is ≪ 1).

Everything is float64 by default (float32 is allowed for speed; the solver tolerance is then
raised to ``10·eps``).  Observables (table :data:`OBSERVABLES`, the names of
docs/CONTRACTS.md) are recorded every ``record_every`` steps; the *expensive* ones (smallest
eigenvalues of G, H, K, ``‖G − G(0)‖₂`` and the operator norms ``‖W‖₂``, ``‖A − A(0)‖₂``,
``‖W − W(0)‖₂``) only every ``expensive_every`` steps, NaN in between, always at step 0 and at
the last step.  ``‖A‖₂`` and the contraction factor ``γ̃‖A‖₂`` are recorded at every recorded
step from a :class:`~verify.model.certified.ContractionTracker` (exact at step 0, at the last
step and when its certified interval gets wider than 2 % or straddles 1; otherwise a certified
upper bound,
``contraction_exact`` says which, ``contraction_lower`` the lower end); the movement norms
``‖A − A(0)‖₂``, ``‖W − W(0)‖₂`` have certified per-step bounds (``*_move_upper``/``*_move_lower``)
and are exact on the expensive steps.

Stop statuses (checked in this order at every step k, before the update):

``diverged``       parameters non-finite;
``solver_failed``  the forward or adjoint solve did not converge (``SolveStatus`` other than
                   ``CONVERGED``; the statuses and messages are in ``record["solver"]``);
``diverged``       loss non-finite or ``> 1e6 ·`` initial loss;
``target_reached`` loss ``≤ target_loss``;
``max_steps``      k = ``steps``;
``interrupted``    SIGINT (Ctrl-C) or SIGTERM between two steps (a second Ctrl-C aborts at once).

The trace is kept up to the stopping step in every case.  On ``solver_failed`` the observables
that depend on the (unconverged) equilibrium are NaN at that step.

Checkpoints (``checkpoint.npz``, written atomically every ``checkpoint_every`` steps, at least
every ``checkpoint_seconds`` of wall time (default 60 s) and at the end) hold the parameters
θ(k), the warm starts ``Z(k−1)``, ``B(k−1)``, the contraction tracker's reference (``A`` at its
last SVD), the initial parameters, patterns and Gram matrix, and the trace *before* step k;
``resume=True`` recomputes step k from them, so a
resumed run performs exactly the same floating-point operations as an uninterrupted one and,
on the CPU, gives bit-identical parameters and traces (GD is deterministic: no RNG after the
initialisation).  A resumed run may change ``steps``, ``target_loss`` and ``checkpoint_every``;
every other configuration field and the data must match.  An auto ``expensive_every`` depends
only on (n, m, d) and ``record_every``, never on ``steps``, so the schedule is the same.

Run directory (docs/CONTRACTS.md): ``record.json``, ``trace.npz`` (one array per observable and
``step``), ``params_init.npz``, ``params_final.npz`` (``A, W, u, v``) and ``checkpoint.npz``
(kept after the run so that it can be continued).

The pieces (docs/ARCHITECTURE.md): :mod:`~verify.experiment.inputs` (argument checks),
:mod:`~verify.experiment.checkpoint` (run directory, resume), :mod:`~verify.experiment.loop`
(the loop), :mod:`~verify.experiment.step` (state → gradients → update),
:mod:`~verify.experiment.observers` (what is measured), :mod:`~verify.experiment.stopping`
(stop rule, SIGINT) and :mod:`~verify.experiment.finish` (verdicts and record).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from verify.experiment.checkpoint import open_run_dir
from verify.experiment.config import RunConfig, auto_expensive_every
from verify.experiment.finish import finish_failed, finish_run
from verify.experiment.inputs import validate_inputs
from verify.experiment.loop import GDLoop
from verify.experiment.observers import OBSERVABLE_NAMES, OBSERVABLES, Observable, observables_table
from verify.experiment.result import RunResult, load_run
from verify.experiment.stopping import DIVERGENCE_FACTOR, STOP_STATUSES
from verify.model.validate import check_network_memory, run_bytes

__all__ = [
    "Observable",
    "OBSERVABLES",
    "OBSERVABLE_NAMES",
    "RunConfig",
    "RunResult",
    "run_gd",
    "load_run",
    "auto_expensive_every",
    "observables_table",
    "STOP_STATUSES",
    "DIVERGENCE_FACTOR",
]


def run_gd(
    X: Any,
    y: Any = None,
    config: RunConfig | None = None,
    *,
    X_test: Any = None,
    y_test: Any = None,
    data_name: str | None = None,
    out_dir: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    spec: Any = None,
    command: str | None = None,
    allow_large: bool = False,
    files: dict[str, Any] | None = None,
) -> RunResult:
    """Run instrumented GD (or small-step GF), check the theorem, write the run directory.

    Args:
        X: (n, d) training inputs, or a :class:`~verify.Dataset` (then ``y`` and the test set
            come from it and must not be passed).
        y: (n,) labels.
        config: :class:`RunConfig`.
        X_test, y_test: optional test set (``test_loss``).
        data_name: name of the data in the record (default ``"data"``).
        out_dir: run directory (``None``: nothing is written).
        resume: continue from ``out_dir/checkpoint.npz`` (a fresh run when the directory has
            neither checkpoint nor record).
        force: overwrite an existing run in ``out_dir``.
        progress: progress lines on stderr (at most one per 5 s).
        spec: theorem spec (default ``bounds.g22_spec(config.mode)``).
        command: the command line to record (the CLI passes it).
        allow_large: run even when the memory estimate
            (:func:`~verify.model.validate.run_bytes`) exceeds the available memory.
        files: extra JSON files (name → object) written into the run directory once every
            check has passed (the CLI's ``cli_args.json``).

    The directory is locked for the whole run (a second writer gets a clean error naming the
    pid); ``force`` over an existing run writes the new run beside it and swaps it in at the end
    (the old run stays untouched if the new one fails). SIGINT/SIGTERM stop the run between
    steps after a checkpoint (status ``interrupted``; ``RunResult.signum`` says which).

    All input errors raise :class:`~bounds.InvalidArgument` before any computation.
    """
    t_start = time.monotonic()
    inputs = validate_inputs(X, y, config, X_test, y_test, spec)
    n, d = inputs.X.shape
    n_test = 0 if inputs.X_test is None else inputs.X_test.shape[0]
    check_network_memory(run_bytes(n, inputs.config.m, d, n_test), "m", inputs.config.m,
                         f"a GD run at m = {inputs.config.m}, n = {n}", allow_large)
    with open_run_dir(out_dir, resume, force, inputs.config, inputs, files) as rd:
        loop = GDLoop.start_from(inputs.config, inputs, rd.work, rd.ckpt, rd.meta, rd.fingerprint, t_start)
        wall = loop.run(progress)
        try:
            res = finish_run(loop, wall, command, data_name, resumed=rd.ckpt is not None)
        except Exception as exc:  # training is done: keep it (record status "failed"), then say so
            failed = finish_failed(loop, wall, command, data_name, exc)
            rd.commit()
            raise failed from exc
        rd.commit()
    return replace(res, out_dir=rd.target, signum=loop.signum)
