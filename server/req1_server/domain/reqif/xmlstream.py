"""Reading an untrusted ReqIF file as XML: the `.reqifz` entry inflated as it streams and bounded, a byte scan that
proves a document DTD-free (then the fast C parser is safe), defusedxml for everything else.

The model is built from the element events elsewhere (elements.py, parse.py); this module only delivers them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from req1_server.domain.reqif.model import ReqifError

ZIP_MAGIC = b"PK\x03\x04"


def bad(message: str) -> ReqifError:
    """The error of a document that is not well-formed or not valid ReqIF."""
    return ReqifError(f"invalid reqif XML: {message}")


def unpack(data: bytes, file_name: str | None, max_unpacked: int) -> bytes:
    """The XML bytes: the first `*.reqif` of a `.reqifz` archive (bounded), else the data itself."""
    is_zip = (file_name or "").lower().endswith(".reqifz") or data.startswith(ZIP_MAGIC)
    if not is_zip:
        return data
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entry = next((i for i in archive.infolist() if i.filename.lower().endswith(".reqif") and not i.is_dir()), None)
        if entry is None:
            raise ReqifError("invalid reqifz: no .reqif file found in archive")
        if entry.file_size > max_unpacked:
            raise ReqifError(f"invalid reqifz: {entry.filename} unpacks to more than {max_unpacked} bytes")
        with archive.open(entry) as handle:
            content = handle.read(max_unpacked + 1)
    except zipfile.BadZipFile as exc:
        raise ReqifError(f"invalid reqifz: {exc}") from None
    if len(content) > max_unpacked:
        raise ReqifError(f"invalid reqifz: archive unpacks to more than {max_unpacked} bytes")
    return content


ASCII_COMPATIBLE = {"utf-8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1"}
XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def fast_path_safe(data: bytes) -> bool:
    """True when a byte scan can prove there is no DTD: an ASCII-compatible encoding and no `<!DOCTYPE`.

    Without a DOCTYPE there can be no entity declarations and no external DTD, so the C parser is safe.
    Anything else (UTF-16/32, EBCDIC and other declared encodings) goes through defusedxml.
    """
    head = data[:4]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        return False
    match = XML_DECL_ENCODING.match(data[:200])
    if match is not None and match.group(1).decode("ascii").lower() not in ASCII_COMPATIBLE:
        return False
    return b"<!DOCTYPE" not in data and b"<!ENTITY" not in data


STREAM_CHUNK = 64 * 1024


class _Bounded(io.RawIOBase):
    """A reader that refuses to yield more than ``limit`` bytes (an archive entry's real inflated size)."""

    def __init__(self, raw: IO[bytes], limit: int, name: str) -> None:
        self.raw, self.limit, self.name, self.seen = raw, limit, name, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(STREAM_CHUNK if size is None or size < 0 else size)
        self.seen += len(chunk)
        if self.seen > self.limit:
            raise ReqifError(f"invalid reqifz: {self.name} unpacks to more than {self.limit} bytes")
        return chunk

    def close(self) -> None:
        self.raw.close()
        super().close()


class _Borrowed(io.RawIOBase):
    """The upload itself, read again from the start; closing this leaves the upload open (its owner closes it)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size)


def opener(file: IO[bytes], file_name: str | None, max_unpacked: int) -> Callable[[], IO[bytes]]:
    """A function giving a fresh stream of the XML: the file itself, or the first `*.reqif` of a `.reqifz`."""
    file.seek(0)
    is_zip = (file_name or "").lower().endswith(".reqifz") or file.read(4) == ZIP_MAGIC
    file.seek(0)
    if not is_zip:
        def plain() -> IO[bytes]:
            file.seek(0)
            return _Borrowed(file)  # type: ignore[return-value]
        return plain
    try:
        archive = zipfile.ZipFile(file)
        entry = next((i for i in archive.infolist() if i.filename.lower().endswith(".reqif") and not i.is_dir()), None)
    except zipfile.BadZipFile as exc:
        raise ReqifError(f"invalid reqifz: {exc}") from None
    if entry is None:
        raise ReqifError("invalid reqifz: no .reqif file found in archive")
    if entry.file_size > max_unpacked:
        raise ReqifError(f"invalid reqifz: {entry.filename} unpacks to more than {max_unpacked} bytes")

    def inflated() -> IO[bytes]:
        try:
            return _Bounded(archive.open(entry), max_unpacked, entry.filename)  # type: ignore[return-value]
        except zipfile.BadZipFile as exc:
            raise ReqifError(f"invalid reqifz: {exc}") from None
    return inflated


def stream_safe(stream: IO[bytes]) -> bool:
    """:func:`fast_path_safe` over a stream, chunk by chunk (the markers may straddle two chunks)."""
    head = stream.read(STREAM_CHUNK)
    if not fast_path_safe(head):
        return False
    tail = head[-16:]
    while chunk := stream.read(STREAM_CHUNK):
        window = tail + chunk
        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
            return False
        tail = window[-16:]
    return True


def events(stream: IO[bytes], safe: bool) -> Iterator[tuple[str, ET.Element]]:
    """(event, element) pairs; plain documents take the C parser (several times faster on large files),
    anything that might carry a DTD goes through defusedxml, which rejects it."""
    try:
        if safe:
            yield from ET.iterparse(stream, events=("start", "end"))  # noqa: S314 - proven DTD-free
        else:
            yield from DET.iterparse(stream, events=("start", "end"), forbid_dtd=True, forbid_entities=True,
                                     forbid_external=True)
    except DefusedXmlException as exc:
        raise bad(f"forbidden construct: {type(exc).__name__}") from None
    except ET.ParseError as exc:
        raise bad(str(exc)) from None
    except (ValueError, UnicodeError) as exc:
        if isinstance(exc, ReqifError):
            raise
        raise bad(str(exc)) from None
