"""GeoReport v2 conformance, from the specification's own examples (open311.github.io,
`GeoReport/v2/index.md`, and `Service_Discovery.md`): each answer of ours has the example's root, item
element and fields, in XML and in JSON, and every error is the spec's list of `code`/`description` with
its HTTP status."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.fixtures.gateway import Gateway
from tests.gateway.open311.conftest import Client, errors_of, parsed

SPEC_SERVICE_LIST = """<?xml version="1.0" encoding="utf-8"?>
<services>
    <service>
        <service_code>001</service_code>
        <service_name>Cans left out 24x7</service_name>
        <description>Garbage or recycling cans that have been left out for more than 24 hours.</description>
        <metadata>true</metadata>
        <type>realtime</type>
        <keywords>lorem, ipsum, dolor</keywords>
        <group>sanitation</group>
    </service>
</services>"""

SPEC_SERVICE_DEFINITION = """<?xml version="1.0" encoding="utf-8"?>
<service_definition>
    <service_code>DMV66</service_code>
    <attributes></attributes>
</service_definition>"""

SPEC_POST_BODY = (
    "jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043&address_string=1234+5th+street"
    "&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=john&last_name=smith"
    "&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
    "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
    "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
)

SPEC_POST_ANSWER = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>293944</service_request_id>
    </request>
</service_requests>"""

SPEC_REQUESTS = """<?xml version="1.0" encoding="utf-8"?>
<service_requests>
    <request>
        <service_request_id>638344</service_request_id>
        <status>closed</status>
        <status_notes>Duplicate request.</status_notes>
        <service_name>Sidewalk and Curb Issues</service_name>
        <service_code>006</service_code>
        <description></description>
        <agency_responsible></agency_responsible>
        <service_notice></service_notice>
        <requested_datetime>2010-04-14T06:37:38-08:00</requested_datetime>
        <updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
        <expected_datetime>2010-04-15T06:37:38-08:00</expected_datetime>
        <address>8TH AVE and JUDAH ST</address>
        <lat>37.762221815</lat>
        <long>-122.4651145</long>
    </request>
</service_requests>"""
"""The spec's example without `address_id`, `zipcode` (we keep no address register) and `media_url`
(photos are the reporter's own, not published)."""

SPEC_ERRORS = """<?xml version="1.0" encoding="utf-8"?>
<errors>
    <error>
        <code>403</code>
        <description>Invalid api_key received -- can't proceed with create_request.</description>
    </error>
</errors>"""

SPEC_DISCOVERY = """<?xml version="1.0" encoding="UTF-8"?>
<discovery>
    <changeset>2011-02-03 14:18</changeset>
    <contact>You can email or call for assistance api@mycity.org +1 (555) 555-5555</contact>
    <key_service>You can request a key here: http://api.mycity.gov/api_key/request</key_service>
    <endpoints>
        <endpoint>
            <specification>http://wiki.open311.org/GeoReport_v2</specification>
            <url>http://open311.mycity.gov/v2</url>
            <changeset>2010-11-23 09:01</changeset>
            <type>production</type>
            <formats>
                <format>text/xml</format>
            </formats>
        </endpoint>
    </endpoints>
</discovery>"""

FIXMYSTREET_UPDATES = """<?xml version="1.0" encoding="utf-8"?>
<service_requests_updates>
<request_update>
<update_id>638344</update_id>
<service_request_id>1</service_request_id>
<status>open</status>
<updated_datetime>2010-04-14T06:37:38-08:00</updated_datetime>
<description>This is a note</description>
</request_update>
</service_requests_updates>"""
"""FixMyStreet's own test data for its update extension (`t/open311/getservicerequestupdates.t`)."""


def shape(element: ET.Element) -> tuple[str, list[str]]:
    """An XML answer's root and the fields of its first item (or of the root itself)."""
    items = list(element)
    item = items[0] if items and len(list(items[0])) else element
    return element.tag, sorted(child.tag for child in item)


def spec_shape(example: str) -> tuple[str, list[str]]:
    """The root and fields of a spec example."""
    return shape(ET.fromstring(example.encode()))


def test_service_list_in_both_formats(client: Client) -> None:
    xml = client.get("services.xml", jurisdiction_id=client.jurisdiction)
    assert xml.status_code == 200
    root = parsed(xml)
    assert shape(root) == spec_shape(SPEC_SERVICE_LIST)
    codes = [service.findtext("service_code") for service in root]
    assert codes == [c.code for c in client.gateway.runtime.deployment.categories]
    assert {service.findtext("type") for service in root} == {"realtime"}
    assert {service.findtext("metadata") for service in root} == {"false"}
    body = parsed(client.get("services.json"))
    assert [service["service_code"] for service in body] == codes
    assert sorted(body[0]) == spec_shape(SPEC_SERVICE_LIST)[1]
    assert body[0]["metadata"] is False


def test_services_are_named_in_the_locale_asked_for_else_the_default_language(client: Client) -> None:
    deployment = client.gateway.runtime.deployment
    waste = deployment.category("waste")
    assert waste is not None and waste.administration
    for locale, language in (("fr", "fr"), ("en_US", "en"), ("xx", deployment.default_language), ("", "ar")):
        body = parsed(client.get("services.json", locale=locale))
        found = next(service for service in body if service["service_code"] == "waste")
        assert found["service_name"] == waste.names[language]
        assert found["group"] == deployment.administration_names(waste.administration)[language]


def test_service_definition(client: Client) -> None:
    root = parsed(client.get("services/waste.xml"))
    assert shape(root) == spec_shape(SPEC_SERVICE_DEFINITION)
    assert root.findtext("service_code") == "waste"
    assert parsed(client.get("services/waste.json")) == {"service_code": "waste", "attributes": []}


def test_the_specs_example_post_files_a_case(client: Client, gateway: Gateway) -> None:
    body = SPEC_POST_BODY.replace("city.gov", client.jurisdiction).replace("service_code=001", "service_code=roads")
    body = body.replace("phone=111111111", "phone=0612345678")
    response = client.post("xml", f"api_key={client.key}&{body}".encode())
    assert response.status_code == 200, response.text
    root = parsed(response)
    assert shape(root) == spec_shape(SPEC_POST_ANSWER)
    reference = root.findtext("request/service_request_id")
    assert reference is not None
    document = gateway.runtime.store.case_document(reference)
    assert document is not None
    assert document["origin_channel"] == "open311"
    assert document["category"] == "roads"
    assert document["description"] == "A large sinkhole is destroying the street"
    assert document["location"] == {"lat": 37.76524078, "lon": -122.4212043, "text": "1234 5th street"}
    assert document["contact"]["phone"] == "+212612345678"
    assert document["contact"]["name"] == "john smith"
    assert document["anonymous"] is False
    notes = [event["note"] for event in document["events"] if event["kind"] == "note"]
    assert "email: smit333@sfgov.edu" in notes
    assert "media_url: http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg" in notes


def test_post_answers_json_too(client: Client) -> None:
    response = client.post("json", {"service_code": "lighting", "address_string": "Avenue Hassan II"})
    assert response.status_code == 200, response.text
    body = parsed(response)
    assert isinstance(body, list) and list(body[0]) == ["service_request_id"]


def test_requests_in_both_formats_match_the_example(client: Client) -> None:
    reference = client.file(address_string="Rue 12, Hay Riad")
    root = parsed(client.get("requests.xml", service_request_id=reference))
    assert shape(root) == spec_shape(SPEC_REQUESTS)
    request = root.find("request")
    assert request is not None
    assert request.findtext("service_request_id") == reference
    assert request.findtext("status") == "open"
    assert request.findtext("address") == "Rue 12, Hay Riad"
    body = parsed(client.get("requests.json", service_request_id=reference))
    assert sorted(body[0]) == spec_shape(SPEC_REQUESTS)[1]
    assert body[0]["lat"] == 35.7595 and body[0]["long"] == -5.8340
    assert body[0]["requested_datetime"].endswith("Z")
    one = parsed(client.get(f"requests/{reference}.json"))
    assert one == body
    assert shape(parsed(client.get(f"requests/{reference}.xml"))) == spec_shape(SPEC_REQUESTS)


def test_discovery(client: Client) -> None:
    root = parsed(client.get("discovery.xml"))
    assert shape(root)[0] == "discovery"
    assert sorted(child.tag for child in root) == sorted(child.tag for child in ET.fromstring(SPEC_DISCOVERY.encode()))
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("url", "").endswith("/open311/v2")
    assert [f.text for f in endpoint.iter("format")] == ["text/xml", "application/json"]
    body = parsed(client.get("discovery.json"))
    assert body["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]


def test_updates_have_fixmystreets_shape(client: Client, gateway: Gateway) -> None:
    reference = client.file()
    gateway.runtime.store.change_status(reference, "in_progress", "officer")
    root = parsed(client.get("servicerequestupdates.xml"))
    assert root.tag == "service_requests_updates"
    mine = [u for u in root if u.findtext("service_request_id") == reference]
    assert len(mine) == 1
    assert sorted(child.tag for child in mine[0]) == spec_shape(FIXMYSTREET_UPDATES)[1]
    assert mine[0].findtext("status") == "open"


ERRORS = [
    ("403 without a key", "post", {"service_code": "waste", "lat": "1", "long": "1"}, "", 403, "api_key"),
    ("403 with a wrong key", "post", {"service_code": "waste", "lat": "1", "long": "1"}, "wrong", 403, "api_key"),
    ("400 without service_code", "post", {"lat": "1", "long": "1"}, None, 400, "service_code was not provided"),
    ("404 unknown service_code", "post", {"service_code": "nope", "lat": "1", "long": "1"}, None, 404, "not found"),
    ("404 unknown jurisdiction", "post", {"jurisdiction_id": "sfgov.org", "service_code": "waste", "lat": "1",
                                          "long": "1"}, None, 404, "jurisdiction_id"),
    ("400 without a location", "post", {"service_code": "waste"}, None, 400, "location"),
]


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("label", "method", "fields", "key", "status", "says"), ERRORS, ids=[e[0] for e in ERRORS])
def test_post_errors(client: Client, fmt: str, label: str, method: str, fields: dict[str, str], key: str | None,
                     status: int, says: str) -> None:
    response = client.post(fmt, fields, key=key)
    assert response.status_code == status
    [(code, description)] = errors_of(response)
    assert code == status and says in description


@pytest.mark.parametrize("fmt", ["xml", "json"])
@pytest.mark.parametrize(("path", "params", "status"), [
    ("services", {"jurisdiction_id": "sfgov.org"}, 404),
    ("services/nope", {}, 404),
    ("services/waste", {"jurisdiction_id": "sfgov.org"}, 404),
    ("requests", {"jurisdiction_id": "sfgov.org"}, 404),
    ("requests/4829130575", {}, 404),
    ("requests/123", {}, 404),
    ("requests", {"start_date": "yesterday"}, 400),
    ("requests", {"status": "pending"}, 400),
    ("requests", {"start_date": "2010-01-01T00:00:00Z", "end_date": "2010-06-01T00:00:00Z"}, 400),
    ("servicerequestupdates", {"end_date": "2010-01-01"}, 400),
    ("discovery", {"jurisdiction_id": "sfgov.org"}, 404),
])
def test_get_errors(client: Client, fmt: str, path: str, params: dict[str, str], status: int) -> None:
    response = client.get(f"{path}.{fmt}", **params)
    assert response.status_code == status
    [(code, description)] = errors_of(response)
    assert code == status and description


def test_the_error_example_is_what_a_bad_key_gets(client: Client) -> None:
    response = client.post("xml", {"service_code": "waste", "lat": "1", "long": "1"}, key="xyz")
    assert response.status_code == 403
    assert ET.tostring(parsed(response)) == ET.tostring(ET.fromstring(
        "".join(line.strip() for line in SPEC_ERRORS.splitlines()[1:]).encode()))
