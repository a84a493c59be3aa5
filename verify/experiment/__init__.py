"""The experiment: data sources, instrumented gradient descent, verdicts and run records.

Owns :mod:`~verify.experiment.data` (datasets), :mod:`~verify.experiment.gd` (``run_gd`` and
``load_run``), :mod:`~verify.experiment.checks` (verdicts against a :class:`bounds.TheoremSpec`)
and :mod:`~verify.experiment.record` (run-directory IO, atomic writes). It may import
:mod:`verify.model` and :mod:`bounds`, never :mod:`verify.report`, :mod:`verify.bench` or
:mod:`verify.cli` (``tests/test_architecture.py``).
"""
