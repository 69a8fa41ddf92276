"""Text PostgreSQL cannot store: a NUL character (\\u0000) in text or jsonb. Found here before an
insert refuses it (the API answers 400 naming the field, an import reports the row's line, or
strips the NULs when the lead chose `nul=strip`)."""

from typing import Any

NUL = "\x00"
NUL_REFUSE = "refuse"  # the row is an error with its line
NUL_STRIP = "strip"  # the NULs are removed and the row goes in
NUL_CHOICES = (NUL_REFUSE, NUL_STRIP)


def nul_path(value: Any, path: str = "") -> str | None:
    """Where the first NUL sits in parsed JSON (`data.text`, `[3].external_id`), or None. Keys
    are searched too: a NUL in a key is as unstorable as one in a value. Iterative, so any
    depth of nesting is walked without Python's recursion limit."""
    pending = [(path, value)]
    while pending:
        where, current = pending.pop()
        if isinstance(current, str):
            if NUL in current:
                return where or "(value)"
        elif isinstance(current, dict):
            inner = []
            for key, item in current.items():
                key_path = f"{where}.{key}" if where else str(key)
                if isinstance(key, str) and NUL in key:
                    return key_path.replace(NUL, "\\u0000")
                inner.append((key_path, item))
            pending.extend(reversed(inner))  # first key first
        elif isinstance(current, list | tuple):
            pending.extend(
                (f"{where}[{i}]", item) for i, item in reversed(list(enumerate(current)))
            )
    return None


def nul_stripped(value: Any) -> Any:
    """A copy of parsed JSON with every NUL removed from its strings, keys included (a key that
    then equals another keeps the later value). Iterative, like nul_path."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if not isinstance(value, dict | list | tuple):
        return value
    copy: Any = {} if isinstance(value, dict) else []
    pending = [(value, copy)]
    while pending:
        source, target = pending.pop()
        entries = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in entries:
            if isinstance(item, dict | list | tuple):
                child: Any = {} if isinstance(item, dict) else []
                pending.append((item, child))
            elif isinstance(item, str):
                child = item.replace(NUL, "")
            else:
                child = item
            if isinstance(target, dict):
                target[key.replace(NUL, "") if isinstance(key, str) else key] = child
            else:
                target.append(child)
    return copy


def nul_escaped(text: str) -> str:
    """Text with its NULs written out as \\u0000, so that it can be stored (error reports)."""
    return text.replace(NUL, "\\u0000") if NUL in text else text


def nesting_depth(value: Any) -> int:
    """How many levels of objects and arrays the value has (iterative, any depth)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            current = current.values()
        elif not isinstance(current, list | tuple):
            continue
        deepest = max(deepest, depth)
        pending.extend((item, depth + 1) for item in current)
    return deepest


def nul_message(path: str) -> str:
    return f"{path} contains a NUL character (\\u0000), which cannot be stored"
