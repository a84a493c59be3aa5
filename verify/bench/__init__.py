"""Benchmarks: measured costs of the model's hot paths, reported as ratios measured in one run.

Owns the measurement code behind ``implicit-verify bench`` (structured vs Jacobian Gram, solver
iterations vs the contraction prediction, one GD step vs dense products) in
:mod:`verify.bench.measure` (import from there). May import :mod:`verify.model` and
:mod:`bounds`; never :mod:`verify.experiment`, :mod:`verify.report` or :mod:`verify.cli` (the
command-line parser is :mod:`verify.cli.bench`).
"""
