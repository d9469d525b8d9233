"""The GeoReport v2 answer shapes, in XML (the required format) and JSON (the Spark convention's mapping).

An answer is a root element holding a list of items (`services`/`service`, `service_requests`/`request`,
`errors`/`error`) or one object (`service_definition`, `discovery`). In JSON a list root is an array and
an object root an object; in XML every field is an element, `None` an empty one, a nested list an element
of repeated children (`attributes`/`attribute`, `formats`/`format`).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

FORMATS = ("json", "xml")
XML_TYPE = "text/xml"
JSON_TYPE = "application/json"
CHILD_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
"""The element each member of a nested list is written as in XML."""
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
"""Characters XML 1.0 cannot carry, even escaped: dropped rather than written into a broken document."""

Item = Mapping[str, Any]


def render_list(fmt: str, root: str, item_tag: str, items: Sequence[Item], status: int = 200) -> web.Response:
    """A list answer (`<root><item_tag>...</item_tag>...</root>`, or a JSON array)."""
    if fmt == "json":
        return _json(list(items), status)
    element = ET.Element(root)
    for item in items:
        _fill(ET.SubElement(element, item_tag), item)
    return _xml(element, status)


def render_object(fmt: str, root: str, item: Item, status: int = 200) -> web.Response:
    """A one-object answer (`<root>...</root>`, or a JSON object)."""
    if fmt == "json":
        return _json(dict(item), status)
    element = ET.Element(root)
    _fill(element, item)
    return _xml(element, status)


def render_errors(fmt: str, status: int, *descriptions: str) -> web.Response:
    """The spec's error answer: one `code`/`description` per problem, `code` being the HTTP status."""
    return render_list(fmt, "errors", "error", [{"code": status, "description": d} for d in descriptions], status)


def _fill(element: ET.Element, item: Item) -> None:
    for key, value in item.items():
        child = ET.SubElement(element, key)
        if isinstance(value, Mapping):
            _fill(child, value)
        elif isinstance(value, list):
            for member in value:
                grandchild = ET.SubElement(child, CHILD_TAGS[key])
                if isinstance(member, Mapping):
                    _fill(grandchild, member)
                else:
                    grandchild.text = _text(member)
        else:
            child.text = _text(value)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml(element: ET.Element, status: int) -> web.Response:
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")
    return web.Response(status=status, body=body.encode("utf-8"), content_type=XML_TYPE, charset="utf-8")


def _json(value: Any, status: int) -> web.Response:
    body = json.dumps(value, ensure_ascii=False)
    return web.Response(status=status, body=body.encode("utf-8"), content_type=JSON_TYPE, charset="utf-8")
