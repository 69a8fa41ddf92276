"""Importers: one module per source format, each a small stage of the import pipeline.

A reader turns (part of) a file into Records: a line (or row, record, zip entry) number for
messages, the position to resume after it, the progress it represents, and either a flat record,
an already shaped row ({"data": {...}, ...}) or the exception saying why that row is bad.
A planner splits a file into chunks that workers import independently.
"""
