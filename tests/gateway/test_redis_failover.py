"""Redis that fails over: a real Sentinel watching a master and its replica on local ports; the
gateway's clients (`async_client_for`, `sync_client_for`) find the master through it, and when the
master dies the session, the per-contact lock and the work queue carry on on the promoted replica."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from gateway.cli.redis_server import redis_binary
from gateway.dialogue.sessions import SessionStore
from gateway.outbound.lanes import WorkLanes, send_work
from gateway.redis_clients import async_client_for, sync_client_for
from gateway.settings import Settings, sentinel_addresses
from tests.fixtures.redis_server import free_port
from tests.gateway.outbound.worker_kit import wait_until

MASTER = "hotline-failover"


@dataclass
class Cluster:
    """A master, its replica and one Sentinel, each a real `redis-server` process."""

    master: subprocess.Popen[bytes]
    replica: subprocess.Popen[bytes]
    sentinel: subprocess.Popen[bytes]
    ports: tuple[int, int, int]

    def master_port(self) -> int:
        """The master's port as the Sentinel names it."""
        client = redis.Redis(port=self.ports[2], socket_timeout=2)
        try:
            return int(client.sentinel_get_master_addr_by_name(MASTER)[1])
        finally:
            client.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    binary = redis_binary()
    if binary is None:
        pytest.skip("no redis-server binary")
    ports = (free_port(), free_port(), free_port())

    def server(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([binary, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    master = server("--port", str(ports[0]), "--dir", str(tmp_path))
    replica = server("--port", str(ports[1]), "--dir", str(tmp_path), "--replicaof", "127.0.0.1", str(ports[0]))
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {ports[2]}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor {MASTER} 127.0.0.1 {ports[0]} 1\n"
                    f"sentinel down-after-milliseconds {MASTER} 1000\n"
                    f"sentinel failover-timeout {MASTER} 4000\n")
    sentinel = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    running = Cluster(master, replica, sentinel, ports)

    def replicating() -> bool:
        try:
            info = redis.Redis(port=ports[1], socket_timeout=1).info("replication")
            return info.get("master_link_status") == "up"
        except redis.RedisError:
            return False

    def watched() -> bool:
        """The Sentinel names the master and knows its replica (it learns it from the master's INFO)."""
        try:
            client = redis.Redis(port=ports[2], socket_timeout=1, decode_responses=True)
            known = [int(r["port"]) for r in client.sentinel_slaves(MASTER)]
            return running.master_port() == ports[0] and ports[1] in known
        except (redis.RedisError, TypeError, KeyError):
            return False

    try:
        wait_until(replicating, 20, "the replica syncing")
        wait_until(watched, 30, "the Sentinel watching the master and its replica")
        yield running
    finally:
        for process in (sentinel, replica, master):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def test_sentinel_addresses_are_read_strictly() -> None:
    assert sentinel_addresses("10.0.0.1:26379, sentinel-b:26380,") == (("10.0.0.1", 26379), ("sentinel-b", 26380))
    assert sentinel_addresses("") == ()
    for bad in ("no-port", "host:", "host:99999", ":26379"):
        with pytest.raises(ValueError):
            sentinel_addresses(bad)


def test_sessions_locks_and_queues_survive_a_failover(cluster: Cluster) -> None:
    settings = Settings.from_env({"HOTLINE_REDIS_URL": "redis://127.0.0.1:1/3",
                                  "HOTLINE_REDIS_SENTINELS": f"127.0.0.1:{cluster.ports[2]}",
                                  "HOTLINE_REDIS_SENTINEL_MASTER": MASTER, "HOTLINE_QUEUE_PREFIX": "failover"})
    blocking = sync_client_for(settings)

    async def before() -> None:
        client = async_client_for(settings)
        try:
            sessions = SessionStore(client, settings.queue_prefix)
            async with sessions.locked("sms", "+212612345678") as held:
                held.session.data["description"] = "Lampadaire éteint"
                held.changed = True
            lanes = WorkLanes(client, settings.queue_prefix)
            assert await lanes.enqueue([send_work(41, "sms", "+212522000111", "+212612345678", "replies")]) == 1
            assert await client.execute_command("WAIT", 1, 2000) == 1, "replicated before the master dies"
        finally:
            await client.aclose()

    asyncio.run(before())
    assert blocking.ping()
    os.kill(cluster.master.pid, signal.SIGKILL)
    cluster.master.wait(timeout=10)
    wait_until(lambda: cluster.master_port() == cluster.ports[1], 30, "the Sentinel promoting the replica")

    async def after() -> None:
        client = async_client_for(settings)
        try:
            sessions = SessionStore(client, settings.queue_prefix)
            assert (await sessions.peek("sms", "+212612345678")).data["description"] == "Lampadaire éteint"
            async with sessions.locked("sms", "+212612345678") as held:
                held.session.data["location_text"] = "Rue 5"
                held.changed = True
            assert (await sessions.peek("sms", "+212612345678")).data["location_text"] == "Rue 5"
            claims, _ = await WorkLanes(client, settings.queue_prefix).claim(5, 10_000)
            assert [claim.item for claim in claims] == ["m:41"], "the queued send is still there"
        finally:
            await client.aclose()

    asyncio.run(after())
    assert blocking.set("failover:after", "1") and blocking.get("failover:after") == b"1", \
        "the blocking client found the new master too"
    assert blocking.connection_pool.get_master_address()[1] == cluster.ports[1]
