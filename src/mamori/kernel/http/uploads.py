"""Reading a multipart upload into memory only: personal data is never written to disk in plaintext.

Starlette's own ``request.form()`` spools any file over 1 MB to a temporary file on disk; a page that takes a file
of personal data (the customers import, receiving from a provider) parses the request stream here instead. The
form's other fields come back as a ``FormData`` of strings; the one file field's bytes separately.
"""

from __future__ import annotations

from typing import Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

__all__ = ["BadUpload", "UploadTooLarge", "is_multipart", "read_multipart"]


class UploadTooLarge(Exception):
    """The file or the other fields are over their limit (nothing more is read)."""


class BadUpload(Exception):
    """Not a multipart/form-data body, or a malformed one."""


def is_multipart(request: Request) -> bool:
    ctype, _ = parse_options_header(request.headers.get("content-type", ""))
    return bool(ctype == b"multipart/form-data")


async def read_multipart(
    request: Request, *, max_file_bytes: int, max_form_bytes: int, file_field: str = "file"
) -> tuple[FormData, bytes | None]:
    """The form's fields and the bytes of its ``file_field`` file, parsed from the request stream into memory
    only. Another file field is ignored (its bytes are counted against ``max_file_bytes`` and dropped). Raises
    ``UploadTooLarge`` over the limits (as declared by Content-Length or as received) and ``BadUpload`` for a
    body that is not well-formed multipart/form-data."""
    declared = request.headers.get("content-length")
    limit = max_file_bytes + max_form_bytes
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise BadUpload
    fields: list[tuple[str, str | UploadFile]] = []
    file_data: bytearray | None = None
    state: dict[str, Any] = {"headers": {}, "hname": b"", "hvalue": b"", "buf": bytearray(), "form": 0}

    def on_part_begin() -> None:
        state["headers"] = {}
        state["buf"] = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["hname"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["hvalue"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["hname"].lower()] = state["hvalue"]
        state["hname"], state["hvalue"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        buf: bytearray = state["buf"]
        buf += data[start:end]
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        if b"filename" in disp:
            if len(buf) > max_file_bytes:
                raise UploadTooLarge
        elif len(buf) + state["form"] > max_form_bytes:
            raise UploadTooLarge

    def on_part_end() -> None:
        nonlocal file_data
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        name = disp.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disp:
            if name == file_field and file_data is None:
                file_data = state["buf"]
            state["buf"] = bytearray()
            return
        state["form"] += len(state["buf"])
        fields.append((name, bytes(state["buf"]).decode("utf-8", "replace")))

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
        },
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise UploadTooLarge
            parser.write(chunk)
        parser.finalize()
    except (UploadTooLarge, BadUpload):
        raise
    except Exception:  # a malformed body: python-multipart's errors
        raise BadUpload from None
    return FormData(fields), (bytes(file_data) if file_data is not None else None)
