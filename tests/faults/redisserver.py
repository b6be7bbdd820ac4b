"""A private ``redis-server`` that a fault test may kill, restart, freeze and thaw.

The machine's shared Redis is never touched: this one runs as a child
process on a free port of 127.0.0.1, without persistence, so a restart
comes back empty like a real cache that lost its memory.
"""

from __future__ import annotations

import signal
import subprocess
import time

import redis


class RedisServer:
    def __init__(self, binary: str, port: int) -> None:
        self.binary = binary
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        self._process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {self.port} did not start") from None
                time.sleep(0.05)
        client.close()

    def kill(self) -> None:
        """Gone at once, as after a crash: connections are refused from now on."""
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)  # a frozen server must be able to die
            self._process.kill()
            self._process.wait(timeout=20)
            self._process = None

    def freeze(self) -> None:
        """Hung: the kernel still accepts connections, but nothing is ever answered."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)
