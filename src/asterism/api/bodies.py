"""Request bodies bounded while they stream: a byte cap on every body, and an in-memory form reader.

``BodyLimit`` (ASGI middleware) caps every request body: ``api.json_max_bytes``
(64 KB) for anything but an upload form, and for a ``multipart/form-data`` body
sent to an upload path ``form_max_bytes`` (the picture's ``upload_max_bytes``
plus room for the text fields and part headers). A declared ``Content-Length``
over the cap is refused at the first read, before any byte is taken; otherwise
bytes are counted as they arrive and the read that passes the cap raises 413,
so a chunked or lying body is never read much past it.

``read_form`` replaces Starlette's ``request.form()`` for uploads. Starlette's
``max_part_size`` bounds only the *text* parts (each up to that size, and the
route set it to the upload limit), while a file part is written whole into a
``SpooledTemporaryFile`` that rolls over to a temporary file on disk past 1 MB,
and its size is only checked when read back. Here the parts stream through
python-multipart's parser straight into memory: one file of at most
``upload_max_bytes``, at most ``api.form_max_fields`` text fields of at most
``api.form_field_max_bytes`` each, part headers bounded by python-multipart
(8 per part, ~4 KB each). Nothing touches the disk, which is what uploads.py
promises ("an upload lives only in memory for the length of its request").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from asterism.api.errors import problem
from asterism.config import ApiSettings

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

HEADROOM = 16 * 1024  # part headers and boundaries around the fields, beyond the fields themselves


def form_max_bytes(api: ApiSettings) -> int:
    """The largest upload form: the picture, every text field at its cap, and the headroom."""
    return api.upload_max_bytes + api.form_max_fields * api.form_field_max_bytes + HEADROOM


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int, what: str) -> None:
        super().__init__(413, f"the request body is over the {limit}-byte limit for {what}")


class BodyLimit:
    """ASGI middleware: every body capped while it streams (see the module docstring).

    The read that passes the cap raises ``BodyTooLarge`` (a 413 HTTPException) into whatever
    is reading, and the app answers it. Code between this middleware and the handler may
    turn it into something else (FastAPI answers an error while reading a JSON body with
    400; a ``BaseHTTPMiddleware`` wraps it in an ExceptionGroup), so once the cap has been
    passed whatever answer the app starts is replaced by the 413, and an exception that
    escapes the app unanswered becomes one too: never a 400 or a 500 for an oversize body.
    Installed innermost (before other middleware) so that they see the 413.
    """

    def __init__(self, app: ASGIApp, api: ApiSettings, upload_paths: Iterable[str]) -> None:
        self.app = app
        self.small = api.json_max_bytes
        self.large = form_max_bytes(api)
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data" and scope["path"] in self.upload_paths:
            limit, what = self.large, "an upload form"
        else:
            limit, what = self.small, "a request that is not an upload"
        declared = _length(headers.get("content-length"))
        received, started, exceeded, replaced = 0, False, False, False

        async def refuse() -> None:
            await problem(413, BodyTooLarge(limit, what).detail)(scope, receive, send)

        async def counted() -> Message:
            nonlocal received, exceeded
            if started:  # the answer is on its way: the rest is only read to be discarded
                return await receive()
            if declared is not None and declared > limit:
                exceeded = True
                raise BodyTooLarge(limit, what)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit, what)
            return message

        async def watched(message: Message) -> None:
            nonlocal started, replaced
            if message["type"] == "http.response.start":
                started = True
                if exceeded and message["status"] != 413:
                    replaced = True
                    await refuse()
            if not replaced:
                await send(message)

        scope["asterism.body_limit"] = limit
        try:
            await self.app(scope, counted, watched)
        except Exception:
            if started or not exceeded:
                raise
            await refuse()


def check_length(request: Request) -> None:
    """Refuse (413) a body whose declared length is over this request's cap, before waiting on anything."""
    limit = request.scope.get("asterism.body_limit")
    declared = _length(request.headers.get("content-length"))
    if limit is not None and declared is not None and declared > limit:
        raise BodyTooLarge(limit, "an upload form")


@dataclass
class Form:
    """A parsed upload form: text fields by name (the last of a repeated name) and file contents."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)


async def read_form(request: Request, api: ApiSettings, *, max_files: int = 1) -> Form:
    """The form's fields and files, read into memory under the limits (413/422/400 with a message)."""
    _, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if not boundary:
        raise HTTPException(400, "the form's Content-Type has no multipart boundary")
    reader = _Parts(api, max_files)
    try:
        parser = MultipartParser(boundary, reader.callbacks())
        async for chunk in request.stream():
            parser.write(chunk)
    except FormParserError as exc:
        raise HTTPException(400, f"the form is not valid multipart/form-data: {exc}") from None
    except ClientDisconnect:
        raise HTTPException(400, "the client went away before the form was sent") from None
    if not reader.ended:
        raise HTTPException(400, "the form ended early: its closing boundary never came")
    return reader.form


class _Parts:
    """python-multipart callbacks that keep each part in memory and enforce the form's limits."""

    def __init__(self, api: ApiSettings, max_files: int) -> None:
        self.file_limit = api.upload_max_bytes
        self.field_limit = api.form_field_max_bytes
        self.max_fields, self.max_files = api.form_max_fields, max_files
        self.form = Form()
        self.ended = False
        self._fields = self._files = 0
        self._name, self._is_file, self._data = "", False, bytearray()
        self._header, self._value = bytearray(), bytearray()
        self._disposition = b""

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def part_begin(self) -> None:
        self._name, self._is_file, self._data, self._disposition = "", False, bytearray(), b""

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._header += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        if bytes(self._header).strip().lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._header, self._value = bytearray(), bytearray()

    def headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if b"name" not in options:
            raise HTTPException(422, "every form part needs a Content-Disposition with a name")
        self._name = options[b"name"].decode("utf-8", "replace")
        self._is_file = b"filename" in options
        if self._is_file:
            self._files += 1
            if self._files > self.max_files:
                raise HTTPException(422, f"the form carries more than {self.max_files} file(s)")
        else:
            self._fields += 1
            if self._fields > self.max_fields:
                raise HTTPException(422, f"the form has more than {self.max_fields} text fields")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file and len(self._data) + (end - start) > self.file_limit:
            raise HTTPException(413, f"bad image: upload is over the {self.file_limit}-byte limit")
        if not self._is_file and len(self._data) + (end - start) > self.field_limit:
            raise HTTPException(
                413, f"form field {self._name[:40]!r} is over the {self.field_limit}-byte limit"
            )
        self._data += memoryview(data)[start:end]

    def part_end(self) -> None:
        if self._is_file:
            self.form.files[self._name] = bytes(self._data)
        else:
            self.form.fields[self._name] = self._data.decode("utf-8", "replace")
        self._data = bytearray()

    def end(self) -> None:
        self.ended = True


def _length(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
