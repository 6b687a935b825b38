"""Tests of the bounded, interruptible wait for a cluster's other tasks (issue #28)."""

import socket
import threading
import time

import pytest

from enas_tf.errors import StrategyError
from enas_tf.runtime import rendezvous


def _cluster(ports):
    return {"worker": [f"localhost:{port}" for port in ports]}


def test_peer_addresses_are_every_task_but_this_one():
    cluster = {"chief": ["a:1"], "worker": ["b:2", "c:3"]}
    assert rendezvous.peer_addresses(cluster, "worker", 0) == [
        ("/job:chief/task:0", "a:1"),
        ("/job:worker/task:1", "c:3"),
    ]
    assert rendezvous.peer_addresses({"worker": ["b:2"]}, "worker", 0) == []


def test_two_tasks_meet_and_leave_their_ports_free_for_tensorflow(free_ports):
    ports = free_ports(2)
    cluster = _cluster(ports)
    errors, servers = [], []

    def task(index, delay):
        time.sleep(delay)  # the second worker starts later, as on a real cluster
        try:
            rendezvous.wait_for_peers(cluster, "worker", index, timeout_seconds=30)
            # What TensorFlow's server does next: listen on the same port at once. A peer
            # still polling (the first worker, once the second has met it and closed its own
            # listener) meets this server instead, as it meets TensorFlow's in a real run.
            servers.append(socket.create_server(("", ports[index])))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=task, args=(i, 1.5 * i)) for i in range(2)]
    start = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for server in servers:
            server.close()
    assert not errors
    assert len(servers) == 2
    assert time.monotonic() - start < 30


def test_a_peer_that_never_comes_ends_the_wait_with_an_error_naming_it(free_ports):
    ports = free_ports(3)
    start = time.monotonic()
    with pytest.raises(StrategyError) as caught:
        rendezvous.wait_for_peers(_cluster(ports), "worker", 0, timeout_seconds=1.0)
    assert time.monotonic() - start < 10
    message = str(caught.value)
    assert f"/job:worker/task:1 at localhost:{ports[1]}" in message
    assert f"/job:worker/task:2 at localhost:{ports[2]}" in message
    assert "--config.cluster_wait_seconds" in message
    with socket.create_server(("", ports[0])):  # the listener is closed on the way out
        pass


def test_a_signal_during_the_wait_stops_it_at_the_next_poll(free_ports):
    stop = KeyboardInterrupt()
    calls = []

    def stop_requested():
        calls.append(1)
        return stop if len(calls) >= 2 else None

    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rendezvous.wait_for_peers(_cluster(free_ports(2)), "worker", 0, 600, stop_requested)
    assert time.monotonic() - start < 10
    assert len(calls) == 2


def test_a_port_already_taken_is_an_error_naming_the_address(free_ports):
    ports = free_ports(2)
    with socket.create_server(("", ports[0])):
        with pytest.raises(StrategyError, match=f"localhost:{ports[0]} cannot be listened on"):
            rendezvous.wait_for_peers(_cluster(ports), "worker", 0, timeout_seconds=1)


def test_an_address_without_a_port_is_an_error():
    with pytest.raises(StrategyError, match="'hostonly' is not host:port"):
        rendezvous.wait_for_peers({"worker": ["localhost:1", "hostonly"]}, "worker", 0, 1)
