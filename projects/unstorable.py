"""Text PostgreSQL cannot store: a NUL character (\\u0000) in text or jsonb. Found here before an
insert refuses it (the API answers 400 naming the field, an import reports the row's line)."""

from typing import Any

NUL = "\x00"


def nul_path(value: Any, path: str = "") -> str | None:
    """Where the first NUL sits in parsed JSON (`data.text`, `[3].external_id`), or None. Keys
    are searched too: a NUL in a key is as unstorable as one in a value."""
    if isinstance(value, str):
        return (path or "(value)") if NUL in value else None
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and NUL in key:
                return where.replace(NUL, "\\u0000")
            if (found := nul_path(inner, where)) is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, inner in enumerate(value):
            if (found := nul_path(inner, f"{path}[{index}]")) is not None:
                return found
    return None


def nul_message(path: str) -> str:
    return f"{path} contains a NUL character (\\u0000), which cannot be stored"
