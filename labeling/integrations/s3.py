"""The boto3 side of cloud storage: S3 clients, one session per thread, whose bucket listings
are parsed by a short path.

botocore parses each listing page twice (once to see whether an answer of 200 hides an error,
once into dicts, walking its service model node by node), most of a sync's client-side time.
Here the first parse's tree is kept, and `listing_parse` reads it straight into the shape
botocore answers (the paginator, retries, signing and the key URL-decoding stay boto3's).
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
from botocore import UNSIGNED, handlers
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserFactory, RestXMLParser

S3_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
LISTING_OPERATION = "ListObjectsV2"
LISTING_OUTPUT = "ListObjectsV2Output"
PARSED_KEY = "quorum_listing_tree"  # where the checked answer's tree waits for the parser
INTEGER_FIELDS = frozenset({"MaxKeys", "KeyCount", "Size"})
BOOLEAN_FIELDS = frozenset({"IsTruncated"})


class _Names(dict):
    """Tag -> name without the S3 namespace, worked out once per tag."""

    def __missing__(self, tag: str) -> str:
        name = self[tag] = tag.rpartition("}")[2]
        return name


_names = _Names()


def _scalar(name: str, text: str | None) -> Any:
    text = text or ""
    if name in INTEGER_FIELDS:
        return int(text) if text else 0
    if name in BOOLEAN_FIELDS:
        return text == "true"
    return text


def listing_parse(root: ElementTree.Element) -> dict[str, Any]:
    """A ListObjectsV2 response (its parsed XML) as botocore would answer it, timestamps left as
    the text S3 sent. Nested fields of an object (its owner, restore status) are left out:
    nothing here reads them."""
    names = _names
    parsed: dict[str, Any] = {}
    contents: list[dict[str, Any]] = []
    prefixes: list[dict[str, Any]] = []
    for node in root:
        name = names[node.tag]
        if name == "Contents":
            entry = {names[field.tag]: field.text or "" for field in node if len(field) == 0}
            if "Size" in entry:
                entry["Size"] = _scalar("Size", entry["Size"])
            contents.append(entry)
        elif name == "CommonPrefixes":
            prefixes.append({names[field.tag]: field.text or "" for field in node})
        else:
            parsed[name] = _scalar(name, node.text)
    if contents:
        parsed["Contents"] = contents
    if prefixes:
        parsed["CommonPrefixes"] = prefixes
    return parsed


def _listing_answer_check(operation_model, response_dict, **kwargs):
    """botocore's check of an S3 answer of 200 (handlers._handle_200_error: an error inside, or
    XML cut short, makes it a 500 to retry), which parses the whole body; for a listing, the
    tree it parses is kept for _ListingParser rather than parsed a second time."""
    if operation_model.name != LISTING_OPERATION:
        return handlers._handle_200_error(operation_model, response_dict, **kwargs)
    if response_dict["status_code"] != 200 or not response_dict["body"]:
        return None
    try:
        root = ElementTree.fromstring(response_dict["body"])
    except ElementTree.ParseError:
        response_dict["status_code"] = 500
        return None
    if root.tag == "Error":
        response_dict["status_code"] = 500
        return None
    response_dict["context"][PARSED_KEY] = root
    return None


class _ListingParser(RestXMLParser):
    """botocore's rest-xml parser, with listings (and only their successful answers: errors go
    through `parse`'s error path) read by listing_parse."""

    def _do_parse(self, response, shape):
        root = response.get("context", {}).get(PARSED_KEY)
        if shape is None or shape.name != LISTING_OUTPUT or root is None:
            return super()._do_parse(response, shape)
        parsed = listing_parse(root)
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
        events = core.get_component("event_emitter")
        events.unregister("before-parse.s3.*", handlers._handle_200_error)
        events.register_first("before-parse.s3.*", _listing_answer_check)
        session = _sessions.session = boto3.session.Session(botocore_session=core)
    return session


def s3_client(
    *, endpoint_url: str, region: str, access_key: str, secret_key: str, anonymous: bool = False
):
    """A client with these keys; without keys, boto3's own chain (the server's environment or
    instance role), or with `anonymous` unsigned requests (public buckets)."""
    return _session().client(
        "s3",
        endpoint_url=endpoint_url or None,
        region_name=region or None,
        aws_access_key_id=access_key or None,
        aws_secret_access_key=secret_key or None,
        config=Config(
            signature_version=UNSIGNED if anonymous else "s3v4",
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )
