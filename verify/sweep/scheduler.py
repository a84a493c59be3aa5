"""Remote dask schedulers: the address checked before any file is written, a connection that
fails fast and says why.

:func:`resolve_scheduler` reads the address (``--scheduler``, else ``DASK_SCHEDULER_ADDRESS``)
and checks its form — ``[SCHEME://]HOST:PORT`` with a scheme dask speaks (tcp, the default;
tls, ws, wss), a host name or address (IPv6 in brackets) and a port 1…65535 — so that
``garbage``, ``foo://x`` or a missing port is one line naming the option (or the variable) before
any work.

:func:`connect` opens the client with a deadline (``--connect-timeout``, default
:data:`CONNECT_TIMEOUT` s) covering every step, because dask's own connect timeout does not
cover its handshake (a peer that accepts and never answers hangs ``distributed.Client``
forever, and one that answers garbage makes it try to allocate whatever length it read):

1. a plain TCP connection (refused, unresolvable host, unreachable network: said at once;
   ``tls://``/``wss://`` need dask's TLS configuration, without which the address is refused
   before any connection);
2. for ``tcp://``, the scheduler's handshake — a dask server sends it first, on accepting — is
   read and decoded with a socket timeout, so a silent peer (an HTTP dashboard port, a
   forgotten ``nc -l``) or a non-dask peer is recognised within the deadline;
3. for ``tcp://``, dask's ``identity`` request over its own protocol (a worker's or nanny's
   port answers the handshake too, but is not a scheduler);
4. ``distributed.Client`` in a watchdog thread bounded by what is left of the deadline, then a
   look at the workers: none yet (after waiting for one until the deadline) is a note, not an
   error — an adaptive cluster starts them later.

Every failure is :class:`~bounds.InvalidArgument` naming the argument (``scheduler`` → the CLI's
``--scheduler``, or ``DASK_SCHEDULER_ADDRESS``), the address and the fix; nothing has been
written by then (:func:`verify.sweep.engine.run_sweep` connects before it takes the directory's
lock).
"""

from __future__ import annotations

import os
import re
import socket
import struct
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from bounds._errors import invalid

__all__ = ["SchedulerAddress", "resolve_scheduler", "parse_scheduler", "connect", "CONNECT_TIMEOUT",
           "ENV", "check_connect_timeout"]

#: seconds allowed for connecting to a remote scheduler (TCP connect, handshake, client start)
CONNECT_TIMEOUT = 10.0
#: the environment variable dask reads the scheduler's address from
ENV = "DASK_SCHEDULER_ADDRESS"
_SCHEMES = ("tcp", "tls", "ws", "wss")
_ADDRESS = re.compile(r"^(?:(?P<scheme>[^:/\s]*)://)?(?P<host>\[[^\]\s]*\]|[^:/\s\[\]]*)"
                      r"(?::(?P<port>[^/\s]*))?/?$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_FIX = "pass the address the scheduler prints at start, e.g. tcp://10.0.0.5:8786"


@dataclass(frozen=True)
class SchedulerAddress:
    """A checked address: ``address`` (``SCHEME://HOST:PORT``) and ``name``, the option or
    variable it came from (the name errors blame)."""

    address: str
    scheme: str
    host: str
    port: int
    name: str


def check_connect_timeout(value: Any, name: str = "connect_timeout") -> float:
    """``value`` as seconds in (0, 3600]."""
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if isinstance(value, bool) or not (0 < t <= 3600):
        raise invalid(name, value, "must be a number of seconds in (0, 3600]",
                      f"pass e.g. {'--connect-timeout' if name.startswith('--') else name} 10")
    return t


def parse_scheduler(text: Any, name: str = "scheduler") -> SchedulerAddress:
    """Check the form of a scheduler address (module docstring); nothing is contacted."""
    if not isinstance(text, str):
        raise invalid(name, text, "must be a scheduler address (text)", _FIX)
    t = text.strip()
    head = re.match(r"^([^:/\s]*)://", t)
    if head is not None and head.group(1).lower() not in _SCHEMES:
        raise invalid(name, text, f"has the scheme {head.group(1)}://, which is not one of "
                      f"dask's ({', '.join(s + '://' for s in _SCHEMES)})", _FIX)
    mt = _ADDRESS.match(t)
    if not t or mt is None:
        raise invalid(name, text, "is not a scheduler address [SCHEME://]HOST:PORT", _FIX)
    scheme = (mt.group("scheme") or "tcp").lower()
    host, port = mt.group("host"), mt.group("port")
    bare = host[1:-1] if host.startswith("[") else host
    if not bare:
        raise invalid(name, text, "has no host", _FIX)
    if host.startswith("["):
        try:
            socket.inet_pton(socket.AF_INET6, bare)
        except OSError:
            raise invalid(name, text, f"has [{bare}], which is not an IPv6 address", _FIX) from None
    elif not _HOST.match(bare):
        raise invalid(name, text, f"has the host {bare!r}, which is not a host name or address", _FIX)
    if port is None or port == "":
        raise invalid(name, text, "has no port (HOST:PORT; a dask scheduler listens on 8786 by "
                      "default)", _FIX.replace("e.g.", "e.g. tcp://HOST:8786 or"))
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise invalid(name, text, f"has the port {port!r}, not an integer in 1…65535", _FIX)
    return SchedulerAddress(f"{scheme}://{host}:{int(port)}", scheme, bare, int(port), name)


def resolve_scheduler(scheduler: Any, *, serial: bool = False, client: Any = None,
                      name: str = "scheduler") -> SchedulerAddress | None:
    """The remote scheduler a sweep uses, checked: ``scheduler`` (blamed as ``name``), else
    ``$DASK_SCHEDULER_ADDRESS`` (blamed as the variable) unless ``serial`` or a ``client`` is
    given; ``None`` for a local cluster or serial run.  An empty variable counts as unset."""
    if scheduler is not None:
        return parse_scheduler(scheduler, name)
    if serial or client is not None:
        return None
    env = os.environ.get(ENV, "")
    return parse_scheduler(env, ENV) if env.strip() else None


def _fail(addr: SchedulerAddress, problem: str, fix: str | None = None) -> Exception:
    return invalid(addr.name, addr.address, problem,
                   fix or f"start the scheduler (dask scheduler --port {addr.port}) or pass the "
                   f"address it prints; {'unset ' + ENV if addr.name == ENV else 'or drop --scheduler'} "
                   "for a local cluster")


def _probe(addr: SchedulerAddress, deadline: float, timeout: float) -> None:
    """TCP connect, then (tcp://) read and decode the handshake the scheduler sends first."""
    found = _in_thread(lambda: socket.getaddrinfo(addr.host, addr.port, type=socket.SOCK_STREAM),
                       deadline)  # the resolver has no timeout of its own
    if "value" not in found:
        exc = found.get("error")
        why = (f"within the --connect-timeout of {timeout:.3g} s" if exc is None
               else f"({getattr(exc, 'strerror', None) or exc})")
        raise _fail(addr, f"the host {addr.host} cannot be resolved {why}",
                    "check the host name (or use the scheduler's IP address)")
    sock = None
    last: OSError | None = None
    for family, kind, proto, _, where in found["value"]:  # every address, as create_connection
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            sock.connect(where)
            break
        except OSError as exc:
            sock.close()
            sock, last = None, exc
    if sock is None:
        if isinstance(last, TimeoutError):
            raise _fail(addr, f"no connection within the --connect-timeout of {timeout:.3g} s (a "
                        "firewall, or a host that is down)")
        raise _fail(addr, f"cannot be reached ({getattr(last, 'strerror', None) or last})")
    if addr.scheme != "tcp":  # TLS/websocket peers wait for our hello: the client's step
        sock.close()
        return
    try:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        head = _read(sock, 8)
        (total,) = struct.unpack("<Q", head)
        if not 16 <= total <= 1 << 20:  # a handshake is a few hundred bytes
            raise ValueError(f"a frame of {total} bytes")
        from distributed.protocol import loads
        from distributed.protocol.utils import unpack_frames

        msg = loads(unpack_frames(_read(sock, total)), deserialize=False)
        if not isinstance(msg, dict) or "compression" not in msg:
            raise ValueError("not a dask handshake")
    except TimeoutError:
        raise _fail(addr, "accepted the connection but sent no dask handshake within the "
                    f"--connect-timeout of {timeout:.3g} s (not a dask "
                    "scheduler: e.g. the dashboard's port, or another service)",
                    "pass the scheduler's address (its port, 8786 by default, not the "
                    "dashboard's)") from None
    except (OSError, ValueError, EOFError, struct.error, KeyError, TypeError) as exc:
        raise _fail(addr, f"answered, but not as a dask scheduler does ({type(exc).__name__}: "
                    f"{' '.join(str(exc).split())[:80]})",
                    "pass the address of a dask scheduler (dask scheduler prints it at start)") from None
    except Exception as exc:  # anything the decoder raises on foreign bytes
        raise _fail(addr, f"answered, but not as a dask scheduler does ({type(exc).__name__})",
                    "pass the address of a dask scheduler (dask scheduler prints it at start)") from None
    finally:
        sock.close()


def _read(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"the peer closed the connection after {len(buf)} bytes")
        buf += chunk
    return bytes(buf)


def _in_thread(fn: Any, deadline: float) -> dict[str, Any]:
    """Run ``fn()`` in a daemon thread until ``deadline``: ``{"value": …}``, ``{"error": …}``
    or ``{}`` when it is still running (the thread is left behind; it holds no file)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 (handed to the caller's thread)
            box["error"] = exc

    th = threading.Thread(target=run, name="implicit-verify-connect", daemon=True)
    th.start()
    th.join(max(0.05, deadline - time.monotonic()))
    return box


def _identity(addr: SchedulerAddress, deadline: float, timeout: float) -> None:
    """Ask the peer who it is over dask's own protocol (``op: identity``), every step under
    the deadline: a worker's or nanny's port speaks dask too, but is not a scheduler."""
    import asyncio

    async def ask() -> Any:
        from distributed.comm import connect as dask_connect

        left = max(0.05, deadline - time.monotonic())
        comm = await dask_connect(addr.address, timeout=left)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    box = _in_thread(lambda: asyncio.run(asyncio.wait_for(ask(), max(0.05, deadline - time.monotonic()))),
                     deadline + 0.5)
    fix = "pass the scheduler's address (dask scheduler prints it at start; not a worker's port)"
    if "error" in box or "value" not in box:
        err = box.get("error")
        if err is None or isinstance(err, TimeoutError):
            raise _fail(addr, f"did not answer dask's identity request within the "
                        f"--connect-timeout of {timeout:.3g} s", fix)
        raise _fail(addr, f"did not answer as a dask scheduler ({type(err).__name__}: "
                    f"{' '.join(str(err).split())[:80]})", fix)
    who = box["value"]
    kind = who.get("type") if isinstance(who, dict) else type(who).__name__
    if kind != "Scheduler":
        raise _fail(addr, f"is a dask {kind}, not a scheduler", fix)


def connect(addr: SchedulerAddress, timeout: float = CONNECT_TIMEOUT) -> Any:
    """A ``distributed.Client`` on the scheduler at ``addr`` within ``timeout`` seconds, or
    :class:`~bounds.InvalidArgument` naming ``addr.name`` (module docstring)."""
    timeout = check_connect_timeout(timeout)
    if addr.scheme in ("tls", "wss"):
        from distributed.security import Security

        if Security().get_connection_args("client").get("ssl_context") is None:
            raise _fail(addr, f"is a {addr.scheme}:// address, but dask has no TLS configuration "
                        "here (no client certificate in distributed.comm.tls)",
                        "set distributed.comm.tls.ca-file and distributed.comm.tls.client.cert "
                        "(dask config or DASK_DISTRIBUTED__COMM__TLS__* variables), or use the "
                        "scheduler's tcp:// address")
    deadline = time.monotonic() + timeout
    _probe(addr, deadline, timeout)
    if addr.scheme == "tcp":
        _identity(addr, deadline, timeout)

    def start() -> Any:
        from distributed import Client

        return Client(addr.address, timeout=max(0.1, deadline - time.monotonic()),
                      set_as_default=False)

    box = _in_thread(start, deadline + 1.0)
    if "value" not in box:
        err = box.get("error")
        why = ("did not finish the client's start within the --connect-timeout of "
               f"{timeout:.3g} s" if err is None else
               f"refused the client ({type(err).__name__}: {' '.join(str(err).split())[:100]})")
        raise _fail(addr, why, "pass the scheduler's address (dask scheduler prints it at start)")
    client = box["value"]
    if not client.scheduler_info().get("workers"):  # the identity the client received
        try:
            client.wait_for_workers(1, timeout=max(0.1, deadline - time.monotonic()))
        except Exception:
            print(f"note: the scheduler at {addr.address} has no workers yet; the sweep waits for "
                  f"them (start some: dask worker {addr.address})", file=sys.stderr)
    return client
