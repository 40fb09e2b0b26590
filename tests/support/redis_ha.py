"""Real Redis HA topologies on loopback for the HA tests, from Debian's `redis-server` and
`redis-sentinel`: a primary with one replica watched by three Sentinels, and a
three-primary Redis Cluster created with `redis-cli --cluster create`. Ports come from
free-port discovery (cluster ports stay <= 55535: the bus port is port + 10000)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import redis

from tests.support.procs import free_port, wait_for

SERVICE = "mymaster"


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} is not installed (tests/run installs it)")
    return path


def _cluster_port() -> int:
    for _ in range(100):
        port = free_port()
        if port <= 55535:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port pair for a cluster node")


class Node:
    """One redis-server (or sentinel) process with its own directory and config file."""

    def __init__(self, name: str, port: int, config: str, *, sentinel: bool = False) -> None:
        self.name, self.port = name, port
        self.dir = Path(tempfile.mkdtemp(prefix=f"autonomic-{name}-"))
        self.conf = self.dir / "redis.conf"
        self.conf.write_text(config + f"\nport {port}\nbind 127.0.0.1\ndir {self.dir}\n")
        self.sentinel = sentinel
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        binary = _binary("redis-sentinel" if self.sentinel else "redis-server")
        with (self.dir / "log").open("ab") as log:
            self.proc = subprocess.Popen([binary, str(self.conf)], stdout=log, stderr=log)
        wait_for(self.ping, timeout=15, what=f"{self.name} on {self.port}")
        return self

    def ping(self) -> bool:
        with redis.Redis(port=self.port, socket_timeout=1) as r:
            return bool(r.ping())

    def kill(self) -> None:
        """SIGKILL: no chance to hand anything over."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


_DATA = "save ''\nappendonly no\n"


class SentinelSet:
    """A primary, one replica and three Sentinels (quorum 2) with quick failure detection."""

    def __init__(self) -> None:
        self.primary = Node("primary", free_port(), _DATA)
        self.replica = Node("replica", free_port(), _DATA + f"replicaof 127.0.0.1 {self.primary.port}\n")
        self.sentinels = [
            Node(
                f"sentinel{i}",
                free_port(),
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {SERVICE} 1000\n"
                f"sentinel failover-timeout {SERVICE} 5000\n"
                f"sentinel parallel-syncs {SERVICE} 1\n",
                sentinel=True,
            )
            for i in range(3)
        ]

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{SERVICE}"

    def start(self) -> SentinelSet:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> SentinelSet:
        self.primary.start()
        self.replica.start()

        def synced() -> bool:
            with redis.Redis(port=self.replica.port) as r:
                return r.info("replication").get("master_link_status") == "up"

        wait_for(synced, timeout=20, what="replica in sync")
        for sentinel in self.sentinels:
            sentinel.start()

        def watched() -> bool:
            for sentinel in self.sentinels:
                with redis.Redis(port=sentinel.port, decode_responses=True) as r:
                    info = r.sentinel_master(SERVICE)
                    if int(info["num-other-sentinels"]) < 2 or int(info["num-slaves"]) < 1:
                        return False
            return True

        wait_for(watched, timeout=30, what="sentinels see each other and the replica")
        return self

    def current_primary(self) -> int:
        """The port the Sentinels name as primary now."""
        with redis.Redis(port=self.sentinels[0].port, decode_responses=True) as r:
            _, port = r.sentinel_get_master_addr_by_name(SERVICE)
            return int(port)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.current_primary(), decode_responses=True)

    def stop(self) -> None:
        for node in [*self.sentinels, self.replica, self.primary]:
            node.stop()


class Cluster:
    """Three primaries (no replicas), created with `redis-cli --cluster create`."""

    def __init__(self, size: int = 3) -> None:
        self.nodes = [
            Node(
                f"cluster{i}",
                port,
                _DATA
                + f"cluster-enabled yes\ncluster-config-file nodes-{port}.conf\ncluster-node-timeout 5000\n",
            )
            for i, port in enumerate(_cluster_port() for _ in range(size))
        ]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def start(self) -> Cluster:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Cluster:
        for node in self.nodes:
            node.start()
        subprocess.run(
            [
                _binary("redis-cli"),
                "--cluster",
                "create",
                *(f"127.0.0.1:{n.port}" for n in self.nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

        def ok() -> bool:
            for node in self.nodes:
                with redis.Redis(port=node.port, decode_responses=True) as r:
                    if r.execute_command("CLUSTER INFO").get("cluster_state") != "ok":
                        return False
            return True

        wait_for(ok, timeout=30, what="cluster_state:ok on every node")
        return self

    def client(self) -> redis.RedisCluster:
        return redis.RedisCluster(host="127.0.0.1", port=self.nodes[0].port, decode_responses=True)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
