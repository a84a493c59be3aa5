"""Argument checks shared by the sub-commands (``run``, ``report``, ``bench``, a future
``sweep``): one import for option parsing with range checks, seeds, memory estimates and the
library-to-option renaming of error messages.

The pure-Python parts live in :mod:`bounds._args` (so ``implicit-verify bounds`` uses them
without torch); the estimates of the torch side in :mod:`verify.model.validate`.
"""

from __future__ import annotations

from bounds._args import (
    MAX_DIM,
    MAX_SEED,
    available_memory,
    check_memory,
    check_seed,
    format_bytes,
    format_seconds,
    notice,
    parse_float,
    parse_float_list,
    parse_int,
    parse_int_list,
)
from verify.cli.run import cli_message
from verify.experiment.record import RunLock, check_writable_dir
from verify.model.validate import check_network_memory, network_bytes, run_bytes

__all__ = [
    "MAX_DIM",
    "MAX_SEED",
    "available_memory",
    "check_memory",
    "check_network_memory",
    "check_seed",
    "check_writable_dir",
    "cli_message",
    "format_bytes",
    "format_seconds",
    "network_bytes",
    "notice",
    "parse_float",
    "parse_float_list",
    "parse_int",
    "parse_int_list",
    "run_bytes",
    "RunLock",
]
