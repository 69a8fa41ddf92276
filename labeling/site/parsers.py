"""DRF's request parsers, refusing a NUL character (\\u0000) with a 400 naming the field:
PostgreSQL stores none in text or jsonb, so it would fail deep inside a request otherwise."""

from django.conf import settings
from rest_framework import exceptions, parsers

from projects.unstorable import nesting_depth, nul_path


class NulCharacter(exceptions.ParseError):
    def __init__(self, field: str):
        super().__init__(
            {field: ["contains a NUL character (\\u0000), which cannot be stored; remove it"]}
        )


def _form_fields(data) -> dict:
    """A form's fields by name, one value as itself and repeated ones as a list."""
    return {name: values[0] if len(values) == 1 else values for name, values in data.lists()}


def nul_refuse(value) -> None:
    if (field := nul_path(value)) is not None:
        raise NulCharacter(field)


class JSONParser(parsers.JSONParser):
    """Also refuses JSON nested deeper than JSON_MAX_DEPTH (Python's parser and everything
    walking the value after it recurse once per level)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = nesting_depth(data) > settings.JSON_MAX_DEPTH
        if too_deep:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {settings.JSON_MAX_DEPTH} levels"
            )
        nul_refuse(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        nul_refuse(_form_fields(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        nul_refuse(_form_fields(parsed.data))
        nul_refuse({name: file.name for name, file in parsed.files.items()})
        return parsed
