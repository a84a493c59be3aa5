"""Input validation of the network and the solvers, and reproducible initialisation.

Every bad input must raise :class:`verify.InvalidArgument` (a ``ValueError``) whose message starts
with ``"<argument name>="`` (docs/CONTRACTS.md, ``bounds._errors.invalid``), never a torch error
from deep inside a computation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import verify
from verify import (
    ImplicitNetwork,
    InvalidArgument,
    VerifyError,
    implicit_gradients,
    resolve_device,
    resolve_dtype,
    solve_adjoint,
    solve_forward,
)

CUDA = torch.cuda.is_available()
M, D, N = 8, 4, 5


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These problems are tiny (m ≤ 64): intra-op threading only adds synchronisation, and on a
    loaded 2-core machine the OpenMP waits made single tests take ~30 s instead of ~0.2 s."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def net(device):
    return ImplicitNetwork.init(M, D, 0.2, 0, device=device)


def data(device, n=N, d=D, dtype=torch.float64):
    g = torch.Generator().manual_seed(7)
    X = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    return X.to(device=device, dtype=dtype), y.to(device=device, dtype=dtype)


def test_invalid_argument_is_a_value_error():
    assert issubclass(InvalidArgument, ValueError) and issubclass(InvalidArgument, VerifyError)
    assert issubclass(verify.SolverError, RuntimeError) and issubclass(verify.SolverError, VerifyError)


# --------------------------------------------------------------------------- X
@pytest.mark.parametrize(
    "make_X,why",
    [
        (lambda dev: torch.ones(D, dtype=torch.float64, device=dev), "2-D"),              # 1-D
        (lambda dev: torch.ones(1, N, D, dtype=torch.float64, device=dev), "2-D"),        # 3-D
        (lambda dev: torch.ones(N, D + 1, dtype=torch.float64, device=dev), f"d={D}"),    # wrong d
        (lambda dev: torch.ones(0, D, dtype=torch.float64, device=dev), "no samples"),    # n = 0
        (lambda dev: torch.full((N, D), float("nan"), dtype=torch.float64, device=dev), "non-finite"),
        (lambda dev: torch.tensor([[1.0, 2.0, float("inf"), 0.0]], dtype=torch.float64, device=dev),
         "non-finite"),
        (lambda dev: [["a", "b", "c", "d"]], "float array"),                              # not numeric
    ],
)
def test_bad_X_is_rejected_everywhere(net, device, make_X, why):
    X = make_X(device)
    _, y = data(device)
    for call in (net.forward, net.features, net.equilibrium, lambda X: net.loss(X, y),
                 lambda X: net.state(X, y), lambda X: implicit_gradients(net, X, y)):
        with pytest.raises(InvalidArgument, match=r"^X=") as info:
            call(X)
        assert why in str(info.value)


def test_numpy_X_and_column_y_are_accepted(net, device):
    X, y = data(device)
    ref = net.forward(X).detach()
    out = net.forward(X.cpu().numpy()).detach()
    assert torch.equal(out, ref)
    # An (n, 1) label column is accepted and means the same as (n,).
    assert net.state(X, y[:, None]).loss == net.state(X, y).loss


# --------------------------------------------------------------------------- y
@pytest.mark.parametrize(
    "make_y,why",
    [
        (lambda dev: torch.zeros(N + 1, dtype=torch.float64, device=dev), f"({N},)"),
        (lambda dev: torch.zeros(N - 1, dtype=torch.float64, device=dev), f"({N},)"),
        (lambda dev: torch.zeros(N, 2, dtype=torch.float64, device=dev), f"({N},)"),
        (lambda dev: torch.tensor([0.0, 1.0, float("nan"), 0.0, 0.0], dtype=torch.float64, device=dev), "non-finite"),
        (lambda dev: torch.tensor([0.0, 1.0, float("-inf"), 0.0, 0.0], dtype=torch.float64, device=dev), "non-finite"),
    ],
)
def test_bad_y_is_rejected(net, device, make_y, why):
    X, _ = data(device)
    y = make_y(device)
    for call in (lambda: net.loss(X, y), lambda: net.state(X, y), lambda: implicit_gradients(net, X, y)):
        with pytest.raises(InvalidArgument, match=r"^y=") as info:
            call()
        assert why in str(info.value)


# --------------------------------------------------------------------------- dtype / device
def test_dtype_mismatch_is_rejected(device):
    net64 = ImplicitNetwork.init(M, D, 0.2, 0, device=device)
    net32 = ImplicitNetwork.init(M, D, 0.2, 0, device=device, dtype=torch.float32)
    X, y = data(device)
    with pytest.raises(InvalidArgument, match=r"^X=.*float32.*does not match.*float64"):
        net64.forward(X.float())
    with pytest.raises(InvalidArgument, match=r"^X=.*float64.*does not match.*float32"):
        net32.forward(X)
    with pytest.raises(InvalidArgument, match=r"^y=.*float32"):
        net64.loss(X, y.float())
    with pytest.raises(InvalidArgument, match=r"^X="):
        net64.forward(X.to(torch.int64))


@pytest.mark.parametrize("dtype", [torch.float16, torch.int32, "int", "half", None, 64])
def test_unsupported_dtype_is_rejected(dtype):
    with pytest.raises(InvalidArgument, match=r"^dtype="):
        ImplicitNetwork.init(M, D, 0.2, 0, dtype=dtype)
    with pytest.raises(InvalidArgument, match=r"^dtype="):
        resolve_dtype(dtype)


@pytest.mark.parametrize("dtype,expected", [("float64", torch.float64), ("double", torch.float64),
                                            ("float32", torch.float32), (torch.float32, torch.float32)])
def test_dtype_names(dtype, expected):
    assert resolve_dtype(dtype) is expected
    assert ImplicitNetwork.init(M, D, 0.2, 0, dtype=dtype).dtype is expected


@pytest.mark.cuda
@pytest.mark.skipif(not CUDA, reason="a device mismatch needs a second device (CUDA)")
def test_device_mismatch_is_rejected():
    net = ImplicitNetwork.init(M, D, 0.2, 0, device="cuda")
    X, y = data("cpu")
    with pytest.raises(InvalidArgument, match=r"^X=.*device"):
        net.forward(X)
    with pytest.raises(InvalidArgument, match=r"^y=.*device"):
        net.loss(X.cuda(), y)
    with pytest.raises(InvalidArgument, match=r"^W=.*device"):
        ImplicitNetwork(net.A.detach(), net.W.detach().cpu(), net.u.detach(), net.v.detach(), 0.2)
    with pytest.raises(InvalidArgument, match=r"^Phi=.*device"):
        solve_forward(net.A.detach(), torch.zeros(3, M, dtype=torch.float64), 0.1)


def test_cuda_unavailable_is_an_invalid_argument(monkeypatch):
    # Runs on every machine: pretend CUDA is absent.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for dev in ("cuda", "cuda:0", torch.device("cuda")):
        with pytest.raises(InvalidArgument, match=r"^device=.*CUDA is not available"):
            ImplicitNetwork.init(M, D, 0.2, 0, device=dev)
    # "auto" falls back to the CPU instead of failing.
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.parametrize("dev", ["tpu", "nonsense", "xla", "meta", "", None, 3, "cuda:99"])
def test_unknown_devices_are_rejected(dev):
    if dev == "cuda:99" and not CUDA:
        dev = "cpu:x"  # without CUDA test another malformed name instead
    with pytest.raises(InvalidArgument, match=r"^device="):
        ImplicitNetwork.init(M, D, 0.2, 0, device=dev)


def test_cpu_device_names():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


# --------------------------------------------------------------------------- γ, m, d, seed
@pytest.mark.parametrize("gamma", [-0.1, -1e-300, 1.0, 1.5, float("nan"), float("inf"), float("-inf"),
                                   "0.1", None, True, [0.1]])
def test_bad_gamma_is_rejected(gamma):
    with pytest.raises(InvalidArgument, match=r"^gamma="):
        ImplicitNetwork.init(M, D, gamma, 0)
    A, W = torch.zeros(M, M, dtype=torch.float64), torch.zeros(M, D, dtype=torch.float64)
    u = torch.ones(M, dtype=torch.float64)
    with pytest.raises(InvalidArgument, match=r"^gamma="):
        ImplicitNetwork(A, W, u, u, gamma)


def test_gamma_message_explains_the_range():
    with pytest.raises(InvalidArgument, match=r"^gamma=1\.0: .*\(0, 1\)"):
        ImplicitNetwork.init(M, D, 1.0, 0)
    assert ImplicitNetwork.init(M, D, np.float64(0.25), 0).gamma == 0.25


@pytest.mark.parametrize("m", [0, -3, 2.5, "8", True, None, 8.0])
def test_bad_width_is_rejected(m):
    with pytest.raises(InvalidArgument, match=r"^m="):
        ImplicitNetwork.init(m, D, 0.2, 0)


@pytest.mark.parametrize("d", [0, -1, 1.5, "4", False])
def test_bad_input_dim_is_rejected(d):
    with pytest.raises(InvalidArgument, match=r"^d="):
        ImplicitNetwork.init(M, d, 0.2, 0)


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True, None])
def test_bad_seed_is_rejected(seed):
    with pytest.raises(InvalidArgument, match=r"^seed="):
        ImplicitNetwork.init(M, D, 0.2, seed)


def test_numpy_ints_are_accepted():
    net = ImplicitNetwork.init(np.int64(M), np.int32(D), 0.2, np.int64(3), max_iter=np.int64(50))
    assert (net.m, net.d) == (M, D)


# --------------------------------------------------------------------------- solver settings
BAD_SETTINGS = [
    ("tol", 0.0), ("tol", 1.0), ("tol", -1e-6), ("tol", float("nan")), ("tol", float("inf")),
    ("tol", "1e-6"), ("tol", True),
    ("max_iter", 0), ("max_iter", -5), ("max_iter", 2.5), ("max_iter", True), ("max_iter", "10"),
    ("method", "newton"), ("method", "Picard"), ("method", None), ("method", 1),
]


@pytest.mark.parametrize("name,value", BAD_SETTINGS)
def test_bad_solver_settings_are_rejected(device, name, value):
    pattern = rf"^{name}="
    # At construction (not only at the first forward).
    with pytest.raises(InvalidArgument, match=pattern):
        ImplicitNetwork.init(M, D, 0.2, 0, device=device, **{name: value})
    net = ImplicitNetwork.init(M, D, 0.2, 0, device=device)
    X, _ = data(device)
    with pytest.raises(InvalidArgument, match=pattern):
        net.equilibrium(X, **{name: value})
    A, Phi = net.A.detach(), net.features(X).detach()
    with pytest.raises(InvalidArgument, match=pattern):
        solve_forward(A, Phi, net.gamma_tilde, **{name: value})
    with pytest.raises(InvalidArgument, match=pattern):
        solve_adjoint(A, net.u.detach(), torch.ones_like(Phi), net.gamma_tilde, **{name: value})


# --------------------------------------------------------------------------- solver operands
def test_bad_solver_operands_are_rejected(device):
    net = ImplicitNetwork.init(M, D, 0.2, 0, device=device)
    X, _ = data(device)
    A, Phi, gt = net.A.detach(), net.features(X).detach(), net.gamma_tilde
    u, Dm = net.u.detach(), torch.ones_like(Phi)
    cases = [
        (r"^A=", lambda: solve_forward(A[:, :-1], Phi, gt)),                     # not square
        (r"^A=", lambda: solve_forward(A.cpu().numpy(), Phi, gt)),               # not a tensor
        (r"^Phi=", lambda: solve_forward(A, Phi[:, :-1], gt)),                   # wrong m
        (r"^Phi=", lambda: solve_forward(A, Phi[0], gt)),                        # 1-D
        (r"^Phi=.*dtype", lambda: solve_forward(A, Phi.float(), gt)),            # dtype mismatch
        (r"^z0=", lambda: solve_forward(A, Phi, gt, z0=Phi[:, :-1])),            # wrong start shape
        (r"^z0=", lambda: solve_forward(A, Phi, gt, z0=Phi[0])),                 # would broadcast
        (r"^gamma_tilde=", lambda: solve_forward(A, Phi, -0.1)),
        (r"^gamma_tilde=", lambda: solve_forward(A, Phi, float("nan"))),
        (r"^gamma_tilde=", lambda: solve_forward(A, Phi, "0.1")),
        (r"^rhs=", lambda: solve_adjoint(A, u[:-1], Dm, gt)),
        (r"^rhs=", lambda: solve_adjoint(A, torch.ones(N + 1, M, dtype=torch.float64, device=device), Dm, gt)),
        (r"^rhs=", lambda: solve_adjoint(A, u.float(), Dm, gt)),
        (r"^D=", lambda: solve_adjoint(A, u, Dm[:, :-1], gt)),
        (r"^D=", lambda: solve_adjoint(A, u, Dm.cpu().numpy(), gt)),
        (r"^gamma_tilde=", lambda: solve_adjoint(A, u, Dm, math.inf)),
    ]
    for pattern, call in cases:
        with pytest.raises(InvalidArgument, match=pattern):
            call()


# --------------------------------------------------------------------------- constructor
def test_bad_parameters_are_rejected():
    f64 = dict(dtype=torch.float64)
    A, W = torch.zeros(M, M, **f64), torch.zeros(M, D, **f64)
    u = torch.ones(M, **f64)
    cases = [
        (r"^A=", (torch.zeros(M, M + 1, **f64), W, u, u)),
        (r"^A=", (torch.zeros(0, 0, **f64), torch.zeros(0, D, **f64), torch.ones(0, **f64), torch.ones(0, **f64))),
        (r"^W=", (A, torch.zeros(M + 1, D, **f64), u, u)),
        (r"^W=", (A, torch.zeros(M, 0, **f64), u, u)),
        (r"^u=", (A, W, torch.ones(M + 1, **f64), u)),
        (r"^v=", (A, W, u, torch.ones(M, 1, **f64))),
        (r"^W=.*dtype", (A, W.float(), u, u)),
        (r"^A=.*dtype", (A.to(torch.int64), W, u, u)),
        (r"^A=.*non-finite", (torch.full((M, M), float("nan"), **f64), W, u, u)),
        (r"^v=.*non-finite", (A, W, u, torch.full((M,), float("inf"), **f64))),
    ]
    for pattern, args in cases:
        with pytest.raises(InvalidArgument, match=pattern):
            ImplicitNetwork(*args, 0.2)


def test_load_parameters_validates(net):
    params = net.parameters_dict()
    with pytest.raises(InvalidArgument, match=r"^params="):
        net.load_parameters({k: v for k, v in params.items() if k != "W"})
    with pytest.raises(InvalidArgument, match=r"^params\['A'\]="):
        net.load_parameters({**params, "A": torch.zeros(M + 1, M + 1, dtype=torch.float64)})
    # A valid load round-trips exactly.
    other = ImplicitNetwork.init(M, D, 0.2, 5)
    net.load_parameters(other.parameters_dict())
    for k, v in other.parameters_dict().items():
        assert torch.equal(getattr(net, k).detach().cpu(), v)


# --------------------------------------------------------------------------- initialisation
def test_same_seed_gives_the_same_network_on_every_device_and_dtype(device):
    cpu = ImplicitNetwork.init(16, 5, 0.2, 11)
    dev = ImplicitNetwork.init(16, 5, 0.2, 11, device=device)
    assert dev.device.type == device
    for k, v in cpu.parameters_dict().items():
        assert torch.equal(getattr(dev, k).detach().cpu(), v), k
    # float32 is the float64 draw rounded once (draws happen in float64 on the CPU).
    f32 = ImplicitNetwork.init(16, 5, 0.2, 11, device=device, dtype="float32")
    for k, v in cpu.parameters_dict().items():
        assert torch.equal(getattr(f32, k).detach().cpu(), v.float()), k
    # Another seed gives another network; u, v are Rademacher; the global RNG is untouched.
    state = torch.random.get_rng_state()
    other = ImplicitNetwork.init(16, 5, 0.2, 12, device=device)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not torch.equal(other.A.detach().cpu(), cpu.A.detach())
    for k in ("u", "v"):
        assert set(getattr(cpu, k).detach().tolist()) <= {-1.0, 1.0}
    # A, W ~ N(0, 1) entrywise: with 256 + 80 samples the sample variance is within ±0.5 of 1
    # (its standard deviation is √(2/336) ≈ 0.08, so this is a > 6σ band).
    entries = torch.cat([cpu.A.detach().ravel(), cpu.W.detach().ravel()])
    assert abs(float(entries.var()) - 1.0) < 0.5
    assert (cpu.m, cpu.d, cpu.gamma) == (16, 5, 0.2)
    assert cpu.gamma_tilde == pytest.approx(0.2 / 4.0)
