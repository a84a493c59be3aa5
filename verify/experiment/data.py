"""Data sets for instrumented runs: re-exported from :mod:`bounds.datasets`.

The data layer is numpy-only and lives in :mod:`bounds.datasets`, so ``implicit-verify bounds``
and every sub-command of ``verify`` read the same data sets and files with the same
preprocessing and audit; torch conversion happens in :mod:`verify.experiment.inputs`.  This
module keeps the historical import path ``verify.experiment.data``.
"""

from bounds.datasets import (  # noqa: F401  (re-exports)
    DATASETS,
    Dataset,
    breast_cancer_dataset,
    digits_all_dataset,
    digits_dataset,
    file_dataset,
    load_dataset,
    perturb_parallel_pairs,
    synthetic_dataset,
)
from bounds.datasets import __all__ as __all__  # noqa: F401
