"""Shared test configuration.

* Hypothesis profiles: ``ci`` (derandomised, no deadline; the default when ``CI`` is set) and
  ``dev`` (few examples, fast). Choose with ``HYPOTHESIS_PROFILE=dev|ci``.
* ``device`` fixture: every test that takes it runs on the CPU and, when a CUDA device is
  present, on CUDA too; without one the CUDA case is skipped with a reason.
* Seeds are fixed in each test and printed on failure through the test ids / messages.
"""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=25,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=10,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

CUDA = torch.cuda.is_available()


@pytest.fixture(
    params=[
        "cpu",
        pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(not CUDA, reason="no CUDA device")]),
    ]
)
def device(request) -> str:
    return request.param


@pytest.fixture
def one_thread():
    """torch on one CPU thread for the test (timings and reductions independent of the
    machine's cores), restored afterwards; modules opt in with
    ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
