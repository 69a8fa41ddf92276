"""CoNLL-2003 writer: BIO tags from the spans of the first span control, one block per item.

Tokens, by the `conll_tokens` option:
- `conll2003` (the default): as the CoNLL-2003 corpus is tokenised (Penn Treebank style):
  clitics split from their word ("Microsoft's" is `Microsoft` + `'s`, "don't" is `do` + `n't`),
  abbreviations ("U.S."), numbers ("1,200.50"), hyphenated words ("state-owned") and names with
  an apostrophe ("O'Neil") kept whole, other punctuation one token each ("..." is one);
- `label_studio`: as Label Studio's exporter makes them: runs of word characters, and every other
  non-space character as its own token ("Microsoft's" is three tokens).
A token takes the span's label when it overlaps
the span: `B-` on the span's first token, `I-` after. Lines are `token -X- _ TAG`; the file opens
with `-DOCSTART- -X- O`, blocks are separated by a blank line and the file ends with one. With a
split, a zip holds one file per split.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from typing import BinaryIO

from exports.options import SPLIT_NAMES
from exports.writers.archive import zip_file_add
from exports.writers.base import Batches, WriteContext
from projects import label_schema as ls

APOSTROPHE = "['\u2019]"
CLITIC = rf"{APOSTROPHE}(?:s|re|ve|ll|d|m)(?!\w)"
CONLL2003_TOKEN = re.compile(
    "|".join(
        (
            r"(?:[^\W\d_]\.){2,}",  # abbreviations: U.S., e.g.
            rf"\w+(?=n{APOSTROPHE}t(?!\w))",  # "do" of "don't"
            rf"n{APOSTROPHE}t(?!\w)",
            CLITIC,  # 's 're 've 'll 'd 'm
            r"\d+(?:[.,:/]\d+)+",  # 1,200.50 12:30 1/2
            rf"\w+(?:-\w+)*(?:{APOSTROPHE}(?!(?:s|re|ve|ll|d|m)(?!\w))\w+(?:-\w+)*)*",
            r"\.\.\.|--",
            r"[^\w\s]",
        )
    ),
    re.IGNORECASE,
)
LABEL_STUDIO_TOKEN = re.compile(r"\w+|[^\w\s]")
TOKENISERS = {"conll2003": CONLL2003_TOKEN, "label_studio": LABEL_STUDIO_TOKEN}
DEFAULT_TOKENS = "conll2003"
DOCSTART = "-DOCSTART- -X- O\n"


def conll_tokens(text: str, *, tokens: str = DEFAULT_TOKENS) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in TOKENISERS[tokens].finditer(text)]


def conll_tags(
    text: str, spans: Iterable[dict], *, tokens: str = DEFAULT_TOKENS
) -> list[tuple[str, str]]:
    """(token, tag) pairs; where spans overlap, the one starting first wins."""
    found = conll_tokens(text, tokens=tokens)
    tags = ["O"] * len(found)
    for span in sorted(spans, key=lambda s: (s["start"], s["end"])):
        first = True
        for i, (_, start, end) in enumerate(found):
            if start < span["end"] and end > span["start"] and tags[i] == "O":
                tags[i] = ("B-" if first else "I-") + span["label"]
                first = False
    return [(token, tag) for (token, _, _), tag in zip(found, tags, strict=True)]


def conll_block(text: str, spans: Iterable[dict], *, tokens: str = DEFAULT_TOKENS) -> str:
    tagged = conll_tags(text, spans, tokens=tokens)
    return "".join(f"{token} -X- _ {tag}\n" for token, tag in tagged) + "\n"


def _span_control(context: WriteContext):
    return next(c for c in context.schema.controls if c.kind == ls.SPANS)


def conll_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    control = _span_control(context)
    source = control.source[0]
    split = bool(context.options.split)
    files = {}
    if split:
        files = {
            name: (context.scratch / f"{name}.conll").open("w", encoding="utf-8")
            for name in SPLIT_NAMES
        }
        for handle in files.values():
            handle.write(DOCSTART)
    else:
        out.write(DOCSTART.encode())
    for batch in batches:
        blocks: list[str] = []
        for record in batch:
            text = record.data.get(source)
            if record.result is None or not isinstance(text, str):
                continue
            block = conll_block(
                text, record.result.get(control.name) or [], tokens=context.options.conll_tokens
            )
            if split:
                files[record.split].write(block)
            else:
                blocks.append(block)
        if blocks:
            out.write("".join(blocks).encode())
    if split:
        with zipfile.ZipFile(out, "w") as archive:
            for name, handle in files.items():
                handle.close()
                zip_file_add(archive, f"{name}.conll", context.scratch / f"{name}.conll")
