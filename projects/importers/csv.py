"""CSV and TSV: a header row, then one item per row; columns become the item's data."""

import codecs
import csv
from collections.abc import Iterator
from typing import IO, Any

from projects.importers.rows import FileError, record_to_row

csv.field_size_limit(64 * 1024 * 1024)


def csv_rows(stream: IO[bytes], *, delimiter: str = ",") -> Iterator[tuple[int, Any]]:
    text = codecs.getreader("utf-8-sig")(stream, errors="strict")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise FileError("The file is not valid UTF-8 text.") from exc
    except csv.Error as exc:
        raise FileError(f"Line 1: {exc}") from exc
    if not header or not any(h.strip() for h in header):
        raise FileError("The file is empty (no header row).")
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise FileError("Line 1: the header names a column twice.")
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise FileError(
                f"Line {reader.line_num + 1}: the file is not valid UTF-8 text."
            ) from exc
        except csv.Error as exc:
            yield reader.line_num, ValueError(str(exc))
            continue
        if not values or not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield (
                reader.line_num,
                ValueError(f"has {len(values)} fields, the header has {len(header)}"),
            )
            continue
        yield reader.line_num, record_to_row(dict(zip(header, values, strict=True)))
