"""Importers: one module per source format. Each turns a file into (line number, raw row) pairs,
where a raw row is {"data": {...}, "external_id": ..., "priority": ..., "gold": ...}."""
