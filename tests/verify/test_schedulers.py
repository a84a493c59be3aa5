"""Issue 21 item 4: remote schedulers fail fast, say why, and leave the directory as it was.

Real ``dask scheduler`` / ``dask worker`` processes are started by address on 127.0.0.1 (free
ports), the way a SLURM or Kubernetes user runs them; the workers get ``PYTHONPATH`` so they
import this checkout.  Peers that are not dask schedulers are local sockets: one that accepts
and never answers (silent), one that answers garbage, one that closes at once, one that sends
a plausible frame length and stalls.  Loopback addresses only.

Every failure is exit 2 with one line naming ``--scheduler`` (or ``DASK_SCHEDULER_ADDRESS``),
within ``--connect-timeout`` (plus start-up), and the output directory is unchanged (no
``sweep.json`` left behind; the same command then works once the address is right).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from verify.cli import main
from verify.sweep import store

REPO = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).parent / "dask"
GRID = ["--kind", "init", "--n", "6,8", "--m", "8,16", "--seeds", "2", "--quiet"]
#: two cells (seeds 0, 1) of one (n, m)
TWO = ["--kind", "init", "--data", "synthetic", "--d", "4", "--n", "6", "--m", "8", "--seeds", "2",
       "--quiet"]
#: a one-cell grid for the failures (its data load is the fixed cost before connecting)
ONE = ["--kind", "init", "--data", "synthetic", "--d", "4", "--n", "6", "--m", "8", "--seeds", "1",
       "--quiet"]


def _tree(d: Path) -> dict[str, str] | None:
    if not d.exists():
        return None
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one_line(capsys, *needles):
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if not ln.startswith("note:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


# ------------------------------------------------------------------ the address's form
BAD_ADDRESSES = [
    ("garbage", "garbage", "has no port"),
    ("unknown-scheme", "foo://x", "scheme foo://"),
    ("unknown-scheme-with-port", "foo://127.0.0.1:8786", "scheme foo://"),
    ("inproc", "inproc://127.0.0.1/1/2", "scheme inproc://"),
    ("missing-port", "tcp://127.0.0.1", "has no port"),
    ("empty-port", "tcp://127.0.0.1:", "has no port"),
    ("port-0", "tcp://127.0.0.1:0", "port '0'"),
    ("port-too-large", "tcp://127.0.0.1:99999", "port '99999'"),
    ("port-text", "tcp://127.0.0.1:http", "port 'http'"),
    ("no-host", "tcp://:8786", "has no host"),
    ("bad-ipv6", "tcp://[zz::q]:8786", "not an IPv6 address"),
    ("space-in-host", "tcp://a b:8786", "not a scheduler address"),
    ("path-after-port", "tcp://127.0.0.1:8786/x", "not a scheduler address"),
    ("empty", "", "not a scheduler address"),
    ("host-underscore-start", "tcp://_x:8786", "not a host name"),
]


def _with_address(argv, source, address, monkeypatch):
    """``argv`` with the scheduler ``address`` given as ``--scheduler`` (source "option") or
    in ``$DASK_SCHEDULER_ADDRESS`` ("env"), and the name an error must blame."""
    if source == "option":
        return [*argv, "--scheduler", address], "--scheduler="
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    return argv, "DASK_SCHEDULER_ADDRESS="


# an empty DASK_SCHEDULER_ADDRESS counts as unset (tested below), so not as the variable
ADDRESS_CASES = [(*b, src) for src in ("option", "env") for b in BAD_ADDRESSES
                 if b[1] or src == "option"]


@pytest.mark.parametrize(("address", "why", "source"), [c[1:] for c in ADDRESS_CASES],
                         ids=[f"{c[0]}-{c[3]}" for c in ADDRESS_CASES])
def test_a_malformed_address_is_one_line_before_anything(tmp_path, capsys, monkeypatch, source,
                                                         address, why):
    out = tmp_path / "s"
    argv, blamed = _with_address(["sweep", *ONE, "--out", str(out)], source, address, monkeypatch)
    t0 = time.monotonic()
    assert main(argv) == 2
    _one_line(capsys, blamed, why)
    assert time.monotonic() - t0 < 5 and not out.exists()


def test_an_empty_env_variable_is_unset(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", " ")
    assert main(["sweep", *ONE, "--serial", "--out", str(tmp_path / "s")]) == 0


@pytest.mark.parametrize(("argv", "option"), [
    (["--connect-timeout", "0"], "--connect-timeout"),
    (["--connect-timeout", "-1"], "--connect-timeout"),
    (["--connect-timeout", "nan"], "--connect-timeout"),
    (["--connect-timeout", "1e9"], "--connect-timeout"),
    (["--connect-timeout", "soon"], "--connect-timeout"),
    (["--serial", "--scheduler", "tcp://127.0.0.1:8786"], "--serial"),
    (["--workers", "2"], "--workers"),
], ids=["timeout-0", "timeout-negative", "timeout-nan", "timeout-huge", "timeout-text",
        "serial-and-scheduler", "workers-with-scheduler"])
def test_options_around_the_scheduler_are_checked(tmp_path, capsys, argv, option):
    out = tmp_path / "s"
    full = ["sweep", *ONE, "--out", str(out), *argv]
    if "--scheduler" not in argv:
        full += ["--scheduler", f"tcp://127.0.0.1:{_free_port()}"]
    assert main(full) == 2
    _one_line(capsys, option + "=")
    assert not out.exists()


def test_connect_timeout_without_a_scheduler_is_refused(tmp_path, capsys):
    assert main(["sweep", *ONE, "--out", str(tmp_path / "s"), "--connect-timeout", "5"]) == 2
    _one_line(capsys, "--connect-timeout=", "remote scheduler")


# ------------------------------------------------------------------ peers that are not dask
@contextlib.contextmanager
def _peer(mode: str):
    """A loopback socket server: ``silent`` accepts and never answers; ``garbage`` sends an
    HTTP-like reply; ``close`` closes at once; ``stall`` sends a plausible frame length, then
    nothing."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            conns.append(c)
            with contextlib.suppress(OSError):
                if mode == "garbage":
                    c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                elif mode == "close":
                    c.close()
                elif mode == "stall":
                    c.sendall(struct.pack("<Q", 200) + b"\x01\x00")

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    try:
        yield f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        stop.set()
        th.join(timeout=5)
        for c in conns:
            c.close()
        srv.close()


PEERS = [("silent", "sent no dask handshake within the --connect-timeout of 1 s"),
         ("stall", "sent no dask handshake within the --connect-timeout of 1 s"),
         ("garbage", "not as a dask scheduler does"),
         ("close", "not as a dask scheduler does")]
PEER_CASES = [(*p, "option") for p in PEERS] + [(*PEERS[0], "env"), (*PEERS[2], "env")]


@pytest.mark.parametrize(("mode", "why", "source"), PEER_CASES,
                         ids=[f"{c[0]}-{c[2]}" for c in PEER_CASES])
def test_a_peer_that_is_not_dask_fails_within_the_timeout(tmp_path, capsys, monkeypatch, mode,
                                                          why, source):
    out = tmp_path / "s"
    with _peer(mode) as address:
        argv, blamed = _with_address(["sweep", *ONE, "--out", str(out), "--connect-timeout", "1"],
                                     source, address, monkeypatch)
        t0 = time.monotonic()
        assert main(argv) == 2
        wall = time.monotonic() - t0
    _one_line(capsys, blamed, why)
    assert wall < 6, wall  # 1 s of timeout, plus loading the data
    assert not out.exists()


def test_tls_without_a_tls_configuration_is_refused_before_connecting(tmp_path, capsys):
    with _peer("silent") as address:
        t0 = time.monotonic()
        assert main(["sweep", *ONE, "--out", str(tmp_path / "s"), "--scheduler",
                     address.replace("tcp://", "tls://")]) == 2
    _one_line(capsys, "--scheduler='tls://", "no TLS configuration", "distributed.comm.tls")
    assert time.monotonic() - t0 < 5 and not (tmp_path / "s").exists()


def test_a_silent_websocket_peer_fails_within_the_timeout(tmp_path, capsys):
    with _peer("silent") as address:
        t0 = time.monotonic()
        assert main(["sweep", *ONE, "--out", str(tmp_path / "s"), "--scheduler",
                     address.replace("tcp://", "ws://"), "--connect-timeout", "1"]) == 2
        wall = time.monotonic() - t0
    _one_line(capsys, "--scheduler='ws://")
    assert wall < 6 and not (tmp_path / "s").exists()


def test_localhost_tries_every_address_it_resolves_to(cluster, tmp_path, capsys):
    """``localhost`` may resolve to ::1 first; the scheduler listens on 127.0.0.1 only."""
    from verify.sweep.scheduler import connect, parse_scheduler

    c = connect(parse_scheduler(f"tcp://localhost:{cluster['port']}"), 5)
    try:
        assert c.scheduler_info()["workers"]
    finally:
        c.close()


def test_a_refused_port_fails_at_once_and_names_the_fix(tmp_path, capsys):
    port = _free_port()
    t0 = time.monotonic()
    assert main(["sweep", *ONE, "--out", str(tmp_path / "s"), "--scheduler",
                 f"tcp://127.0.0.1:{port}"]) == 2
    _one_line(capsys, "--scheduler=", "Connection refused", f"dask scheduler --port {port}")
    assert time.monotonic() - t0 < 5 and not (tmp_path / "s").exists()


@pytest.mark.slow
def test_the_default_connect_timeout_is_about_ten_seconds():
    from bounds._errors import InvalidArgument
    from verify.sweep.scheduler import CONNECT_TIMEOUT, connect, parse_scheduler

    with _peer("silent") as address:
        t0 = time.monotonic()
        with pytest.raises(InvalidArgument, match="--connect-timeout of 10 s"):
            connect(parse_scheduler(address))
        wall = time.monotonic() - t0
    assert CONNECT_TIMEOUT == 10.0 and 9.5 < wall < 13, wall


# ------------------------------------------------------------------ real dask processes
def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)


def _wait_listening(port: int, proc: subprocess.Popen, limit: float = 60) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        assert proc.poll() is None, "the dask scheduler exited at start"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise AssertionError(f"no dask scheduler on port {port} after {limit} s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``dask scheduler`` on a free loopback port and one ``dask worker`` (1 process × 1
    thread) attached to it by address; both stopped at the end, whatever happens."""
    if not DASK.exists():
        pytest.skip(f"no dask command beside {sys.executable}")
    logs = tmp_path_factory.mktemp("dask-logs")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1"}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    port = _free_port()
    procs: list[subprocess.Popen] = []
    try:
        with open(logs / "scheduler.log", "w") as log:
            procs.append(subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port",
                                           str(port), "--no-dashboard"], env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
        _wait_listening(port, procs[0])
        address = f"tcp://127.0.0.1:{port}"
        with open(logs / "worker.log", "w") as log:
            procs.append(subprocess.Popen([str(DASK), "worker", address, "--nworkers", "1",
                                           "--nthreads", "1", "--no-dashboard", "--host",
                                           "127.0.0.1"], env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
        from distributed import Client

        with Client(address, timeout=30, set_as_default=False) as c:
            c.wait_for_workers(1, timeout=90)
            workers = list(c.scheduler_info()["workers"])
        yield {"address": address, "port": port, "worker": workers[0], "procs": procs}
    finally:
        for p in reversed(procs):
            _stop(p)


@pytest.fixture(scope="module")
def serial_table(tmp_path_factory):
    d = tmp_path_factory.mktemp("serial") / "s"
    assert main(["sweep", *GRID, "--serial", "--out", str(d)]) == 0
    return store.read_table(d)


def _rows(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_s"]).reset_index(drop=True)


@pytest.mark.parametrize("source", ["option", pytest.param("env", marks=pytest.mark.slow)])
def test_a_sweep_through_a_real_scheduler_equals_the_serial_table(cluster, serial_table, tmp_path,
                                                                   capsys, monkeypatch, source):
    out = tmp_path / "s"
    argv = ["sweep", *GRID, "--out", str(out)]
    if source == "option":
        argv += ["--scheduler", cluster["address"]]
    else:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster["address"])
    assert main(argv) == 0
    said = capsys.readouterr().out
    assert f"[dask scheduler {cluster['address']}]" in said and "8 computed" in said
    pd.testing.assert_frame_equal(_rows(store.read_table(out)), _rows(serial_table))
    assert not (out / ".sweep.lock").exists()


def test_a_workers_port_is_not_a_scheduler(cluster, tmp_path, capsys):
    assert main(["sweep", *ONE, "--out", str(tmp_path / "s"), "--scheduler", cluster["worker"],
                 "--connect-timeout", "5"]) == 2
    _one_line(capsys, "--scheduler=", "is a dask Worker, not a scheduler")
    assert not (tmp_path / "s").exists()


def test_a_failed_connection_leaves_the_directory_and_the_fixed_command_works(cluster, tmp_path,
                                                                              capsys):
    """New sweep: a wrong address leaves nothing, the right one runs.  Resume: a half-done
    sweep is left byte for byte as it was, the right address finishes it."""
    out = tmp_path / "s"
    wrong = f"tcp://127.0.0.1:{_free_port()}"
    assert main(["sweep", *TWO, "--out", str(out), "--scheduler", wrong]) == 2
    _one_line(capsys, "--scheduler=")
    assert not out.exists()
    assert main(["sweep", *TWO, "--out", str(out), "--scheduler", cluster["address"]]) == 0
    capsys.readouterr()

    half = tmp_path / "half"
    assert main(["sweep", *TWO, "--out", str(half), "--serial"]) == 0
    capsys.readouterr()
    full = store.read_table(half)
    keep = full[full["seed"] == 0]  # drop the seed-1 cell: a sweep half done
    store.write_final(half, keep, "init")
    before = _tree(half)
    with _peer("silent") as silent:
        assert main(["sweep", "--out", str(half), "--resume", "--scheduler", silent,
                     "--connect-timeout", "1", "--quiet"]) == 2
    _one_line(capsys, "--scheduler=", "no dask handshake")
    assert _tree(half) == before
    assert main(["sweep", "--out", str(half), "--resume", "--scheduler", cluster["address"],
                 "--quiet"]) == 0
    assert "1 computed, 1 already done" in capsys.readouterr().out
    pd.testing.assert_frame_equal(_rows(store.read_table(half)), _rows(full))


@pytest.mark.slow
def test_a_scheduler_without_workers_is_a_note_not_a_hang(tmp_path):
    """Connecting to a scheduler with no workers yet returns within the timeout with a note
    (an adaptive cluster starts its workers later)."""
    import io
    from contextlib import redirect_stderr

    from verify.sweep.scheduler import connect, parse_scheduler

    port = _free_port()
    p = subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                          "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_listening(port, p)
        err = io.StringIO()
        t0 = time.monotonic()
        with redirect_stderr(err):
            c = connect(parse_scheduler(f"tcp://127.0.0.1:{port}"), 2)
        c.close()
        assert time.monotonic() - t0 < 6
        assert "has no workers yet" in err.getvalue()
    finally:
        _stop(p)


@pytest.mark.slow
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_sweep_on_a_remote_scheduler_and_resume_matches(cluster, tmp_path, signum):
    """Issue 21 item 2 in the remote-scheduler mode: the CLI in a subprocess on the real
    scheduler, signalled once its first part is saved, exits 128 + signal with the resume
    command, and the resumed table equals a serial one."""
    import signal

    argv = [sys.executable, "-c", "import sys; from verify.cli import main; sys.exit(main(sys.argv[1:]))",
            "sweep", "--kind", "gd", "--data", "synthetic", "--n", "6", "--d", "4", "--m", "8",
            "--seeds", "4", "--steps", "4000", "--target", "1e-300", "--step", "0.05", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    full = tmp_path / "full"
    subprocess.run([*argv, "--serial", "--out", str(full)], check=True, env=env,
                   capture_output=True, timeout=300)
    k = tmp_path / "k"
    remote = ["--scheduler", cluster["address"]]
    p = subprocess.Popen([*argv, *remote, "--out", str(k)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        while not any((k / "parts").glob("*")) and time.monotonic() - t0 < 120 and p.poll() is None:
            time.sleep(0.05)
        p.send_signal(getattr(signal, signum))
        err = p.communicate(timeout=60)[1]
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate(timeout=10)
    assert p.returncode == 128 + getattr(signal, signum), err
    assert "--resume" in err.strip().splitlines()[-1]
    part = store.read_table(k)
    assert len(part) < 4 and set(part["status"]) == {"done"}
    subprocess.run([*argv[:3], "sweep", "--out", str(k), "--resume", *remote, "--quiet"], check=True,
                   env=env, capture_output=True, timeout=300)
    cols = ["n", "m", "seed", "status", "gd_status", "loss_final", "steps_done"]
    got, want = store.read_table(k), store.read_table(full)
    cols = [c for c in cols if c in want.columns]
    pd.testing.assert_frame_equal(got[cols], want[cols])
