"""Property-based fuzzing of what the JSON API and the console read from a request (Hypothesis,
derandomized): bodies, text fields, path ids, query strings and case references. Each either gives a
value the store can take or refuses with `Refused` (a 4xx), never anything else."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import references
from core.records import Staff
from gateway.staff.api.case_routes import case_filter
from gateway.staff.api.common import MAX_ID, MAX_OFFSET, bounded_int, int_param, json_body, text_field
from gateway.staff.desk import Refused
from tests.channels.test_parser_fuzz import JSON_VALUES, TEXT, UNSAFE

FUZZ = settings(derandomize=True, max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
NUMBERS = st.one_of(TEXT, st.integers(min_value=-(2**70), max_value=2**70).map(str),
                    st.from_regex(r"[-+ 0-9_.e١²]{0,14}", fullmatch=True),
                    st.sampled_from(["", " 7 ", "+5", "1_000", "١٢", "0x10", "1e3", "-0", "--5", "00000000001"]))
ADMIN = Staff(1, "admin", "admin", None, datetime.now(UTC))
OFFICER = Staff(2, "officer", "officer", "commune-temara-lighting", datetime.now(UTC))


@dataclass
class FakeRequest:
    """What the parsers read of an aiohttp request: the body and the path parameters."""

    body: bytes = b""
    match_info: dict[str, str] = field(default_factory=dict)

    async def read(self) -> bytes:
        """The raw body."""
        return self.body


def refused_or(call: Any, *args: Any, **kwargs: Any) -> Any:
    """`call(...)`, or None when it refused with a 4xx."""
    try:
        return call(*args, **kwargs)
    except Refused as refusal:
        assert 400 <= refusal.status < 500
        return None


@FUZZ
@given(st.one_of(st.binary(max_size=100), JSON_VALUES.map(lambda value: json.dumps(value).encode()),
                 st.integers(min_value=1, max_value=3000).map(lambda depth: b"[" * depth + b"]" * depth)))
def test_json_bodies(raw: bytes) -> None:
    payload = refused_or(lambda: asyncio.run(json_body(FakeRequest(raw))))  # type: ignore[arg-type]
    assert payload is None or isinstance(payload, dict)


@FUZZ
@given(st.dictionaries(st.sampled_from(["note", "text", "x"]), JSON_VALUES, max_size=3), st.booleans(),
       st.integers(min_value=1, max_value=100))
def test_text_fields(payload: dict[str, Any], required: bool, limit: int) -> None:
    value = refused_or(text_field, payload, "note", required=required, limit=limit)
    if value is not None:
        assert isinstance(value, str) and len(value) <= limit and not UNSAFE.search(value)
        assert value or not required


@FUZZ
@given(NUMBERS)
def test_path_ids(raw: str) -> None:
    value = refused_or(int_param, FakeRequest(match_info={"id": raw}), "id")  # type: ignore[arg-type]
    assert value is None or 0 < value <= MAX_ID


@FUZZ
@given(NUMBERS)
def test_query_numbers(raw: str) -> None:
    value = refused_or(bounded_int, raw, "offset", 0, 0, MAX_OFFSET)
    assert value is None or 0 <= value <= MAX_OFFSET


@FUZZ
@given(st.dictionaries(st.sampled_from(["status", "overdue", "administration", "reference", "limit", "offset",
                                        "category", "channel", "from", "to", "x"]), st.one_of(TEXT, NUMBERS),
                       max_size=6), st.sampled_from([ADMIN, OFFICER]))
def test_case_filters(query: dict[str, str], staff: Staff) -> None:
    found = refused_or(case_filter, staff, query)
    if found is not None:
        assert 0 <= found.limit <= MAX_OFFSET and 0 <= found.offset <= MAX_OFFSET
        for code in (found.category, found.channel, found.administration):
            assert code is None or (len(code) <= 64 and not UNSAFE.search(code))


@FUZZ
@given(st.one_of(TEXT, NUMBERS, st.sampled_from(["482 913 0575", "482-913-0575", "#4829130575#", "٤٨٢٩١٣٠٥٧٥"])))
def test_references(text: str) -> None:
    found = references.parse(text)
    assert found is None or (references.is_valid(found) and found.isascii() and len(found) == 10)
    digits = references.normalize(text)
    assert digits is None or (digits.isascii() and digits.isdigit() and len(digits) == 10)
