"""A real Ray cluster on this machine, for the tests and bench/ray_build.py: a head and worker nodes.

Each node is started with ``ray start``, as on separate machines, and gets its own loopback
address (head 127.0.0.2, workers 127.0.0.3, .4, ...): Ray turns 127.0.0.1 into the machine's
network address, any other 127.x address it keeps, so nothing leaves the machine. (Ray's
servers listen on every interface; all traffic goes to these addresses.) ``stop`` ends only
this cluster's processes, those naming its temp folder and their descendants, never
``ray stop``, which ends every Ray process of the user.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

BIN = Path(sys.executable).parent
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
HEAD = "127.0.0.2"


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LoopbackCluster:
    """``with LoopbackCluster(cpus=2) as cluster: cluster.add_node(); ... cluster.address``."""

    def __init__(self, cpus: int = 2) -> None:
        self.cpus = cpus
        self.folder = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # Ray's socket paths must stay short
        self.address = f"{HEAD}:{free_port(HEAD)}"
        self.nodes = [HEAD]

    def start(self) -> LoopbackCluster:
        port = self.address.rsplit(":", 1)[1]
        self._ray(
            "start", "--head", f"--node-ip-address={HEAD}", f"--port={port}", f"--num-cpus={self.cpus}",
            "--include-dashboard=false", f"--dashboard-port={free_port(HEAD)}", "--disable-usage-stats",
            f"--temp-dir={self.folder}",
        )  # fmt: skip
        return self

    def add_node(self) -> str:
        """One more worker node, on the next loopback address; returns that address."""
        ip = f"127.0.0.{len(self.nodes) + 2}"
        self._ray(
            "start", f"--address={self.address}", f"--node-ip-address={ip}", f"--num-cpus={self.cpus}",
            "--disable-usage-stats",
        )  # fmt: skip
        self.nodes.append(ip)
        return ip

    def processes(self) -> set[int]:
        """This cluster's processes: those naming its temp folder, and all their descendants."""
        marker = str(self.folder).encode()
        parent: dict[int, int] = {}
        ours: set[int] = set()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            pid = int(entry.name)
            parent[pid] = int(stat.rsplit(")", 1)[1].split()[1])
            if marker in cmdline:
                ours.add(pid)
        grew = True
        while grew:
            children = {pid for pid, ppid in parent.items() if ppid in ours} - ours
            ours |= children
            grew = bool(children)
        ours.discard(os.getpid())
        return ours

    def stop(self) -> None:
        """SIGTERM, then SIGKILL, to this cluster's processes only; then its temp folder goes."""
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            for pid in self.processes():
                with contextlib.suppress(ProcessLookupError):  # ended meanwhile
                    os.kill(pid, sig)
            deadline = time.monotonic() + wait
            while self.processes() and time.monotonic() < deadline:
                time.sleep(0.2)
        left = self.processes()
        shutil.rmtree(self.folder, ignore_errors=True)
        if left:
            raise RuntimeError(f"the test cluster's processes {sorted(left)} outlived SIGKILL")

    def _ray(self, *args: str) -> None:
        done = subprocess.run([str(BIN / "ray"), *args], env=ENV, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"ray {args[0]} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")

    def __enter__(self) -> LoopbackCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
