"""Checks every uploaded file passes before anything reads it as what it claims to be."""

from __future__ import annotations

from typing import IO

import filetype

# Enough of the start of a file for its magic number, and for a text file to show it is one.
HEAD_BYTES = 8192


def head_of(stream: IO[bytes]) -> bytes:
    """The first bytes of an upload, leaving it where it was."""
    position = stream.tell()
    head = stream.read(HEAD_BYTES)
    stream.seek(position)
    return head


def is_binary(head: bytes) -> bool:
    """A file that claims to be text (CSV) but is not: a NUL byte, which no text in the
    encodings the portal reads holds, or the magic number of a known binary type (an
    image, an archive, a PDF) renamed to .csv."""
    return b"\x00" in head or filetype.guess(head) is not None


def display_name(name: str | None) -> str:
    """The name a user gave a file, kept only to show it: the last part of any path (of
    either kind of slash), without control characters (a NUL cannot even be stored).
    Stored files are named by the portal, never by this."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(char for char in last if char.isprintable())[:200]
