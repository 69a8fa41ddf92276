"""Line-based files (CSV, TSV, JSONL, URL lists): split into byte ranges at record boundaries,
and read one range line by line with the byte position after every line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from projects.imports.readers.rows import ChunkSpec

SCAN_BLOCK = 1024 * 1024
READ_BLOCK = 1024 * 1024
BOM = b"\xef\xbb\xbf"


def line_chunks_plan(
    stream: IO[bytes],
    *,
    start: int,
    first_line: int,
    chunk_bytes: int,
    quote_aware: bool,
) -> list[ChunkSpec]:
    """Byte ranges of about `chunk_bytes`, each ending just after a newline. With `quote_aware`
    (CSV), a newline counts only where the number of double quotes before it is even, i.e. not
    inside a quoted field (RFC 4180 doubles quotes inside quoted fields, so parity holds)."""
    stream.seek(start)
    boundaries: list[tuple[int, int]] = []  # (byte offset, line number there)
    block_start, lines, quotes = start, first_line, 0
    target = start + chunk_bytes
    while block := stream.read(SCAN_BLOCK):
        block_end = block_start + len(block)
        while target < block_end:
            index = block.find(b"\n", max(target - block_start, 0))
            while index != -1:
                even = not quote_aware or (quotes + block.count(b'"', 0, index)) % 2 == 0
                if even:
                    break
                index = block.find(b"\n", index + 1)
            if index == -1:
                target = block_end  # keep looking from the next block's start
                break
            boundary = block_start + index + 1
            boundaries.append((boundary, lines + block.count(b"\n", 0, index) + 1))
            target = boundary + chunk_bytes
        lines += block.count(b"\n")
        if quote_aware:
            quotes += block.count(b'"')
        block_start = block_end
    chunks = []
    chunk_start, chunk_line = start, first_line
    for boundary, line in boundaries:
        if boundary >= block_start:
            break  # the rest of the file is empty: no chunk for it
        chunks.append(
            ChunkSpec(start=chunk_start, end=boundary, first_line=chunk_line, position=chunk_start)
        )
        chunk_start, chunk_line = boundary, line
    chunks.append(
        ChunkSpec(start=chunk_start, end=None, first_line=chunk_line, position=chunk_start)
    )
    return chunks


class LineReader:
    """Lines of a byte range, with the position after the last line handed out."""

    def __init__(self, stream: IO[bytes], *, start: int, end: int | None, line: int):
        stream.seek(start)
        self.stream = stream
        self.position = start
        self.end = end
        self.next_line = line  # the number of the next line to be read

    def __iter__(self) -> Iterator[bytes]:
        end = self.end
        for raw in self._lines():
            if end is not None and self.position >= end:
                return
            if self.position == 0 and raw.startswith(BOM):
                self.position += len(BOM)
                raw = raw[len(BOM) :]
            self.position += len(raw)
            self.next_line += 1
            yield raw

    def _lines(self) -> Iterator[bytes]:
        """The stream's lines, each with its newline (the last may have none), read in large
        blocks: a worker parses while another thread writes the previous batch, and every read
        from the file lets go of the GIL, which the parser then waits to get back."""
        read = self.stream.read
        pieces: list[bytes] = []  # the start of a line longer than what was read so far
        while block := read(READ_BLOCK):
            if b"\n" not in block:
                pieces.append(block)
                continue
            if pieces:
                pieces.append(block)
                block = b"".join(pieces)
                pieces = []
            lines = block.split(b"\n")
            last = lines.pop()
            for line in lines:
                yield line + b"\n"
            if last:
                pieces.append(last)
        if pieces:
            yield b"".join(pieces)
