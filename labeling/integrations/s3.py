"""The boto3 side of cloud storage: S3 clients, one session per thread, whose bucket listings
are parsed by a short path.

botocore turns each listing page into dicts by walking its service model node by node, most of a
sync's client-side time; `listing_parse` reads the same XML with ElementTree straight into the
shape botocore answers (the paginator, retries, signing and the key URL-decoding stay boto3's).
Imported only where a bucket is reached: boto3 and botocore are large, and a web process needs
them only to presign.

Public: s3_client, listing_parse, S3_ERRORS.
"""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ElementTree
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserFactory, RestXMLParser

S3_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
LISTING_OUTPUT = "ListObjectsV2Output"
INTEGER_FIELDS = frozenset({"MaxKeys", "KeyCount", "Size"})
BOOLEAN_FIELDS = frozenset({"IsTruncated"})


def _name(tag: str) -> str:
    return tag.rpartition("}")[2]  # without the S3 namespace


def _scalar(name: str, text: str | None) -> Any:
    text = text or ""
    if name in INTEGER_FIELDS:
        return int(text) if text else 0
    if name in BOOLEAN_FIELDS:
        return text == "true"
    return text


def listing_parse(body: bytes) -> dict[str, Any]:
    """A ListObjectsV2 response body as botocore would parse it, timestamps left as the text S3
    sent. Nested fields of an object (its owner, restore status) are left out: nothing here
    reads them."""
    root = ElementTree.fromstring(body)
    parsed: dict[str, Any] = {}
    contents: list[dict[str, Any]] = []
    prefixes: list[dict[str, Any]] = []
    for node in root:
        name = _name(node.tag)
        if name == "Contents":
            contents.append(
                {
                    _name(field.tag): _scalar(_name(field.tag), field.text)
                    for field in node
                    if len(field) == 0
                }
            )
        elif name == "CommonPrefixes":
            prefixes.append({_name(field.tag): field.text or "" for field in node})
        else:
            parsed[name] = _scalar(name, node.text)
    if contents:
        parsed["Contents"] = contents
    if prefixes:
        parsed["CommonPrefixes"] = prefixes
    return parsed


class _ListingParser(RestXMLParser):
    """botocore's rest-xml parser, with listings (and only their successful answers: errors go
    through `parse`'s error path) read by listing_parse."""

    def _do_parse(self, response, shape):
        if shape is None or shape.name != LISTING_OUTPUT or not response["body"]:
            return super()._do_parse(response, shape)
        parsed = listing_parse(response["body"])
        parsed["ResponseMetadata"] = self._populate_response_metadata(response)
        return parsed


class _ParserFactory(ResponseParserFactory):
    def create_parser(self, protocol_name):
        if protocol_name == "rest-xml":
            return _ListingParser(**self._defaults)
        return super().create_parser(protocol_name)


_sessions = threading.local()


def _session() -> boto3.session.Session:
    session = getattr(_sessions, "session", None)
    if session is None:  # one per thread: boto3 sessions are not thread-safe (clients are)
        core = botocore.session.Session()
        core.register_component("response_parser_factory", _ParserFactory())
        session = _sessions.session = boto3.session.Session(botocore_session=core)
    return session


def s3_client(*, endpoint_url: str, region: str, access_key: str, secret_key: str):
    return _session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=Config(
            signature_version="s3v4",
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
