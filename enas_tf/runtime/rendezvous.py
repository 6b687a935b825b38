"""Wait for a multi-worker cluster's other tasks in Python, bounded and interruptible.

Creating a `tf.distribute.MultiWorkerMirroredStrategy` blocks inside TensorFlow's C++ until
every task of `TF_CONFIG`'s cluster has registered with the coordination service. A worker whose
peer never comes (a typo in an address, a host that did not start) would wait there for good,
and no Python signal handler runs during that wait (TensorFlow's preemption notifier even takes
SIGTERM), so neither Ctrl-C nor SIGTERM stopped it: only SIGKILL did (issue #28).

So before the strategy is created, every task first meets the others here: it listens on its
own cluster address (the port TensorFlow's server takes a moment later) and connects to every
other task's address until each one answers, polling in Python, where a signal is seen within
a poll and a deadline (`cluster_wait_seconds`) ends the wait with one line naming the tasks
that never answered. A task that has met everyone closes its listener and creates the strategy;
its TensorFlow server then answers on the same port, so a slower peer still polling meets it
there. What stays out of reach: a peer that answers here and dies in the moments before it
registers with TensorFlow leaves the others in TensorFlow's own wait.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Callable, Optional

from absl import logging

from enas_tf.errors import StrategyError

POLL_SECONDS = 0.5


def peer_addresses(cluster: dict, task_type: str, task_index: int) -> list[tuple[str, str]]:
    """Every task of `cluster` but this one, as (task name, "host:port") pairs."""
    return [
        (f"/job:{job}/task:{index}", address)
        for job, addresses in sorted(cluster.items())
        for index, address in enumerate(addresses)
        if (job, index) != (task_type, int(task_index))
    ]


def _split(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise StrategyError(
            f"TF_CONFIG's cluster address {address!r} is not host:port (e.g. 'host1:12345')"
        )
    return host.strip("[]"), int(port)


def _answers(address: str, timeout: float) -> bool:
    """Whether something accepts a TCP connection at `address` (closed at once by us)."""
    host, port = _split(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class _Listener:
    """Accepts connections on this task's port and lets each peer close them first.

    The peer closes first, so the connection's TIME_WAIT stays on the peer's side and the port
    is free at once for TensorFlow's server.
    """

    def __init__(self, address: str):
        _, port = _split(address)
        try:
            if socket.has_dualstack_ipv6():  # peers may resolve this host to IPv4 or IPv6
                self._socket = socket.create_server(
                    ("", port), family=socket.AF_INET6, dualstack_ipv6=True
                )
            else:
                self._socket = socket.create_server(("", port))
        except OSError as error:
            raise StrategyError(
                f"this task's TF_CONFIG address {address} cannot be listened on ({error}); "
                "another program holds the port, or the address is not this host's: fix "
                "TF_CONFIG's cluster or its task index"
            ) from None
        self._socket.settimeout(POLL_SECONDS)
        self._open = True
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while self._open:
            try:
                connection, _ = self._socket.accept()
            except OSError:  # the poll's timeout, or the socket closed by `close`
                continue
            with contextlib.suppress(OSError), connection:
                connection.settimeout(5.0)
                connection.recv(1)  # b"" once the peer has closed

    def close(self) -> None:
        self._open = False
        self._socket.close()
        self._thread.join()


def wait_for_peers(
    cluster: dict,
    task_type: str,
    task_index: int,
    timeout_seconds: float,
    stop_requested: Callable[[], Optional[BaseException]] = lambda: None,
) -> None:
    """Returns once every other task of `cluster` answers at its address.

    Args:
      cluster: TF_CONFIG's cluster, checked (`strategy.tf_config_cluster`).
      task_type, task_index: this task's place in it.
      timeout_seconds: how long to wait for the slowest peer.
      stop_requested: called every poll; an exception it returns is raised (a signal).

    Raises:
      StrategyError: a peer did not answer within `timeout_seconds`, or this task's port
        cannot be listened on.
    """
    peers = peer_addresses(cluster, task_type, task_index)
    if not peers:
        return
    own = cluster[task_type][int(task_index)]
    listener = _Listener(own)
    waiting = dict(peers)
    start = time.monotonic()
    logged = start
    try:
        while waiting:
            for name, address in list(waiting.items()):
                if _answers(address, timeout=POLL_SECONDS):
                    logging.info("cluster: %s at %s answered", name, address)
                    del waiting[name]
            if not waiting:
                break
            stop = stop_requested()
            if stop is not None:
                raise stop
            now = time.monotonic()
            if now - start > timeout_seconds:
                raise StrategyError(
                    f"waited {timeout_seconds:g} s for the other tasks of TF_CONFIG's cluster; "
                    f"still not answering: {_listing(waiting)}. Start the same command on each "
                    "of them (each with its own TF_CONFIG task), check the addresses and "
                    "firewalls, or wait longer with --config.cluster_wait_seconds"
                )
            if now - logged > 30:
                logged = now
                logging.info(
                    "cluster: waiting for %s (%.0f of %g s)",
                    _listing(waiting),
                    now - start,
                    timeout_seconds,
                )
            time.sleep(POLL_SECONDS)
    finally:
        listener.close()


def _listing(waiting: dict) -> str:
    return ", ".join(f"{name} at {address}" for name, address in sorted(waiting.items()))
