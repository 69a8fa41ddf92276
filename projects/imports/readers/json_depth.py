"""How deep a JSON document nests, measured on the bytes as they stream to the parser.

ijson keeps a path prefix per level, so a value nested 200,000 levels deep costs memory that grows
with the square of its depth (22 GB for a 400 KB file). The guard sees each block before the
parser does and stops the file once it nests deeper than the limit. Brackets inside strings do
not count; strings may span blocks. numpy does the work, a few array passes per block.
"""

from __future__ import annotations

QUOTE, BACKSLASH = ord('"'), ord("\\")
STEPS = [0] * 256
STEPS[ord("[")] = STEPS[ord("{")] = 1
STEPS[ord("]")] = STEPS[ord("}")] = -1
STEP_TABLE = bytes(step % 256 for step in STEPS)  # as int8 once numpy reads it


class TooDeep(ValueError):
    """The document nests deeper than allowed."""


def _backslashes_before(data: bytes, end: int) -> int:
    """How many backslashes run up to `end` (exclusive)."""
    start = end
    while start > 0 and data[start - 1] == BACKSLASH:
        start -= 1
    return end - start


class DepthGuard:
    def __init__(self, limit: int):
        self.limit = limit
        self.depth = 0
        self.in_string = False
        # Inside a string: the text read of it ends with an odd run of backslashes (the next
        # character, maybe a quote, is escaped).
        self.odd_backslashes = False

    def feed(self, data: bytes) -> None:
        """Account for the next block; raise TooDeep when the document nests too deep."""
        import numpy as np  # the worker's import path only

        table = np.frombuffer(STEP_TABLE, dtype=np.int8)

        if not data:
            return
        codes = np.frombuffer(data, dtype=np.uint8)
        quotes = np.flatnonzero(codes == QUOTE)
        if b'\\"' in data or (self.odd_backslashes and data[0] == QUOTE):
            # Only a quote right after a backslash may be escaped: count each one's run.
            after_backslash = quotes[(quotes > 0) & (codes[quotes - 1] == BACKSLASH)]
            escaped = []
            for index in after_backslash.tolist():
                run = _backslashes_before(data, index)
                if run == index and self.odd_backslashes:  # the run began in the last block
                    run += 1
                if run % 2:  # an odd run escapes the quote: it is part of the string
                    escaped.append(index)
            if self.odd_backslashes and data[0] == QUOTE:
                escaped.append(0)
            quotes = np.setdiff1d(quotes, np.array(escaped, dtype=np.int64))
        steps = np.take(table, codes)
        brackets = np.flatnonzero(steps)
        # A bracket is outside strings when an even number of real quotes precede it (one
        # more if the block starts inside a string).
        outside = (np.searchsorted(quotes, brackets) + self.in_string) % 2 == 0
        counted = steps[brackets[outside]].astype(np.int64)
        if counted.size:
            levels = np.cumsum(counted) + self.depth
            if int(levels.max()) > self.limit:
                raise TooDeep(f"the JSON nests deeper than {self.limit} levels")
            self.depth = int(levels[-1])
        was_in_string = self.in_string
        self.in_string = (len(quotes) + was_in_string) % 2 == 1
        run = _backslashes_before(data, len(data)) if self.in_string else 0
        if run == len(data) and self.odd_backslashes and was_in_string:
            run += 1
        self.odd_backslashes = run % 2 == 1
