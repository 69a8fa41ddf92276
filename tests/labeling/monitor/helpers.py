"""Events for monitoring tests."""

from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 1, tzinfo=UTC)


def event(n: int, *, label="positive", score=0.9, version="v1", at=None, **extra) -> dict:
    return {
        "event_id": f"e{n}",
        "timestamp": (at or START + timedelta(minutes=n)).isoformat(),
        "model_version": version,
        "data": {"text": f"text {n}"},
        "result": {"sentiment": label},
        "score": score,
        "metadata": extra.pop("metadata", {"region": "eu"}),
        **extra,
    }
