"""A local stand-in for the Hugging Face Hub's file API, so pull tests run offline against the real client.

It answers the requests ``huggingface_hub`` (2.4) makes for ``model_info``,
``snapshot_download`` and ``hf_hub_download``, with the headers it reads
(``file_download.get_hf_file_metadata``):

* ``GET /api/models/{repo}/revision/{rev}`` → ``id``, ``sha`` and ``siblings``
  (with ``size``, ``blobId`` and ``lfs {sha256, size, pointerSize}`` when
  asked ``?blobs=true``, as ``files_metadata=True`` does);
* ``GET /api/models/{repo}/tree/{rev}`` → the file listing ``snapshot_download``
  caches (``oid``, ``size``, ``lfs {oid, size, pointerSize}``);
* ``HEAD``/``GET /{repo}/resolve/{rev}/{path}`` with ``X-Repo-Commit`` and an
  ``ETag`` (quoted git blob id; for LFS files the sha256, also in
  ``X-Linked-Etag`` with ``X-Linked-Size``). Like the real hub, LFS files
  redirect (302, ``Location``) to a "CDN" — here ``localhost`` instead of
  ``127.0.0.1``, another origin, so the client does not follow the redirect
  on ``HEAD`` and reads the metadata from the 302 itself, then ``GET``\\s the
  ``Location``;
* byte ranges (``Range: bytes=N-`` → 206 with ``Content-Range``).

Switches for tests: drop the connection after N bytes of one file once (and
optionally answer that file with an error afterwards, a hub gone away);
serve corrupted bytes for a file while the metadata keeps its true sha256;
a log of every request.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LFS_SUFFIXES = (".safetensors", ".bin", ".model", ".pt")


@dataclass(frozen=True)
class RepoFile:
    name: str
    data: bytes
    sha256: str
    git_sha1: str
    lfs: bool

    @classmethod
    def of(cls, name: str, data: bytes) -> RepoFile:
        lfs = name.endswith(LFS_SUFFIXES)
        sha256 = hashlib.sha256(data).hexdigest()
        stored = _pointer(sha256, len(data)) if lfs else data  # git stores an LFS pointer, not the file
        git_sha1 = hashlib.sha1(f"blob {len(stored)}\0".encode() + stored).hexdigest()
        return cls(name, data, sha256, git_sha1, lfs)

    def listing(self) -> dict[str, Any]:
        pointer = {"size": len(self.data), "pointerSize": len(_pointer(self.sha256, len(self.data)))}
        entry: dict[str, Any] = {
            "type": "file",
            "path": self.name,
            "oid": self.git_sha1,
            "size": len(self.data),
        }
        if self.lfs:
            entry["lfs"] = {"oid": self.sha256, **pointer}
        return entry

    def sibling(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"rfilename": self.name, "size": len(self.data), "blobId": self.git_sha1}
        if self.lfs:
            pointer_size = len(_pointer(self.sha256, len(self.data)))
            entry["lfs"] = {"sha256": self.sha256, "size": len(self.data), "pointerSize": pointer_size}
        return entry


def _pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


@dataclass(frozen=True)
class Hit:
    """One request as the server saw it: ``sent`` counts body bytes written."""

    method: str
    url: str
    repo: str | None
    file: str | None
    range: str | None
    status: int
    sent: int


@dataclass
class Drop:
    after: int
    then_status: int | None
    done: bool = False


class HubServer:
    """Serve folders under repo ids on ``http://127.0.0.1:<free port>``; a context manager."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, RepoFile]] = {}
        self.commits: dict[str, str] = {}
        self.log: list[Hit] = []
        self.drops: dict[tuple[str, str], Drop] = {}
        self.failing: dict[tuple[str, str], int] = {}
        self.corrupted: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ content
    def add(self, repo_id: str, folder: Path, extra: dict[str, bytes] | None = None) -> str:
        """Serve every file of ``folder`` (plus ``extra``) as ``repo_id`` at revision ``main``; returns the commit."""
        files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        files.update(extra or {})
        self.repos[repo_id] = {name: RepoFile.of(name, data) for name, data in sorted(files.items())}
        digest = hashlib.sha1(repo_id.encode())
        for repo_file in self.repos[repo_id].values():
            digest.update(f"{repo_file.name}:{repo_file.sha256}".encode())
        self.commits[repo_id] = digest.hexdigest()
        return self.commits[repo_id]

    # ------------------------------------------------------------------ switches
    def drop(self, repo_id: str, name: str, *, after: int, then_status: int | None = None) -> None:
        """Cut the next download of ``name`` after ``after`` body bytes; then answer its GETs with
        ``then_status`` (if given) until ``heal()``."""
        self.drops[(repo_id, name)] = Drop(after, then_status)

    def corrupt(self, repo_id: str, name: str) -> None:
        """Serve ``name`` with some bytes flipped (same size; the metadata keeps the true sha256)."""
        self.corrupted.add((repo_id, name))

    def heal(self) -> None:
        self.drops.clear()
        self.failing.clear()
        self.corrupted.clear()

    def downloads(self, repo_id: str, name: str) -> list[Hit]:
        """The GETs that carried (part of) a file's body."""
        return [h for h in self.log if h.method == "GET" and (h.repo, h.file) == (repo_id, name) and h.sent]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> HubServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.log.append(hit)


_REPO = r"(?P<repo>[^/]+/[^/]+)"
ROUTES = {
    "info": re.compile(rf"^/api/models/{_REPO}/revision/(?P<rev>[^/]+)$"),
    "tree": re.compile(rf"^/api/models/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?$"),
    "resolve": re.compile(rf"^/{_REPO}/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"),
    "cdn": re.compile(rf"^/cdn/{_REPO}/(?P<oid>[0-9a-f]{{64}})$"),
}


def _handler(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: a dropped body is a closed socket

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            pass

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def do_GET(self) -> None:
            self._answer(body=True)

        # -------------------------------------------------------------- routing
        def _answer(self, *, body: bool) -> None:
            split = urlsplit(self.path)
            path, query = unquote(split.path), parse_qs(split.query)
            for route, pattern in ROUTES.items():
                if match := pattern.match(path):
                    getattr(self, f"_{route}")(body=body, query=query, **match.groupdict())
                    return
            self._send(404, {"X-Error-Code": "RepoNotFound"}, b"")

        def _repo(self, repo: str, rev: str | None) -> dict[str, RepoFile] | None:
            if repo not in hub.repos:
                self._send(
                    404, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"}, b""
                )
                return None
            if rev is not None and rev not in ("main", hub.commits[repo]):
                self._send(
                    404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id"}, b""
                )
                return None
            return hub.repos[repo]

        def _info(self, *, body: bool, query: dict[str, list[str]], repo: str, rev: str) -> None:
            if (files := self._repo(repo, rev)) is None:
                return
            blobs = query.get("blobs", ["false"])[0].lower() == "true"
            siblings = [f.sibling() if blobs else {"rfilename": f.name} for f in files.values()]
            self._json({"id": repo, "modelId": repo, "sha": hub.commits[repo], "private": False,
                        "siblings": siblings}, body)  # fmt: skip

        def _tree(
            self, *, body: bool, query: dict[str, list[str]], repo: str, rev: str, path: str | None
        ) -> None:
            if (files := self._repo(repo, rev)) is None:
                return
            prefix = f"{path.strip('/')}/" if path else ""
            self._json([f.listing() for f in files.values() if f.name.startswith(prefix)], body)

        def _resolve(
            self, *, body: bool, query: dict[str, list[str]], repo: str, rev: str, path: str
        ) -> None:
            if (files := self._repo(repo, rev)) is None:
                return
            commit = hub.commits[repo]
            if path not in files:
                self._send(404, {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": commit}, b"")
                return
            found = files[path]
            headers = {"X-Repo-Commit": commit, "ETag": f'"{found.git_sha1}"'}
            if found.lfs:
                headers |= {"ETag": f'"{found.sha256}"', "X-Linked-Etag": f'"{found.sha256}"',
                            "X-Linked-Size": str(len(found.data))}  # fmt: skip
                location = f"http://localhost:{hub.port}/cdn/{repo}/{found.sha256}"
                self._send(302, headers | {"Location": location}, b"", repo=repo, file=path)
                return
            self._file(found, repo, headers, body)

        def _cdn(self, *, body: bool, query: dict[str, list[str]], repo: str, oid: str) -> None:
            found = next((f for f in hub.repos.get(repo, {}).values() if f.sha256 == oid), None)
            if found is None:
                self._send(404, {}, b"")
                return
            self._file(found, repo, {"ETag": f'"{oid}"'}, body)

        # -------------------------------------------------------------- bodies
        def _file(self, found: RepoFile, repo: str, headers: dict[str, str], body: bool) -> None:
            key = (repo, found.name)
            if body and key in hub.failing:
                self._send(hub.failing[key], {}, b"", repo=repo, file=found.name)
                return
            data = found.data
            if key in hub.corrupted:
                data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
            start, status = 0, 200
            wanted = self.headers.get("Range")
            if wanted and (m := re.fullmatch(r"bytes=(\d+)-", wanted.strip())):
                start, status = int(m.group(1)), 206
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            headers["Accept-Ranges"] = "bytes"
            payload = data[start:]
            drop = hub.drops.get(key)
            if body and drop is not None and not drop.done:
                drop.done = True
                if drop.then_status is not None:
                    hub.failing[key] = drop.then_status
                self._send(status, headers, payload, repo=repo, file=found.name, cut=drop.after)
                return
            self._send(status, headers, payload if body else b"", repo=repo, file=found.name,
                       length=len(payload))  # fmt: skip

        def _json(self, data: Any, body: bool) -> None:
            payload = json.dumps(data).encode()
            self._send(
                200, {"Content-Type": "application/json"}, payload if body else b"", length=len(payload)
            )

        def _send(self, status: int, headers: dict[str, str], payload: bytes, *, repo: str | None = None,
                  file: str | None = None, length: int | None = None, cut: int | None = None) -> None:  # fmt: skip
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload) if length is None else length))
            self.end_headers()
            sent = payload if cut is None else payload[:cut]
            try:
                self.wfile.write(sent)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            hit = Hit(self.command, self.path, repo, file, self.headers.get("Range"), status, len(sent))
            hub.record(hit)

    return Handler
