"""The model: the G22 implicit network, its equilibrium solves and its Gram matrices.

Owns :mod:`~verify.model.network` (the network, its state and closed-form implicit gradients),
:mod:`~verify.model.equilibrium` (certified forward/adjoint fixed-point solves),
:mod:`~verify.model.gram` (the exact empirical NTK and the feature Grams) and
:mod:`~verify.model.validate` (argument checks shared by the torch side). It is the bottom layer
of :mod:`verify`: it may import torch, numpy and :mod:`bounds`, never :mod:`verify.experiment`,
:mod:`verify.report`, :mod:`verify.bench` or :mod:`verify.cli` (``tests/test_architecture.py``).
"""
