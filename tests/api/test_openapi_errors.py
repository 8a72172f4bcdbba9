"""The OpenAPI document declares every error response each operation can give, and the
error body it documents is the one the API really sends."""

import base64
import json

import pytest

from caseloop.api.api import ERROR_SCHEMA, STATUS_CODES
from caseloop.lib.errors import DomainError, http_status_for
from tests.builders import bearer, make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db

TYPES = {"string": str, "array": list, "object": dict}


@pytest.fixture
def document(client) -> dict:
    return json.loads(client.get("/api/openapi.json").content)


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def assert_is_an_error_body(body: dict) -> None:
    """`body` fits the documented Error schema (required fields, each property's type)."""
    schema = ERROR_SCHEMA
    assert set(schema["required"]) <= set(body), body
    for name, value in body.items():
        if name in schema["properties"]:
            expected = TYPES[schema["properties"][name]["type"]]
            assert isinstance(value, expected), (name, value)
    assert body["detail"] and body["code"]


def test_every_operation_declares_422_and_401_and_403_when_it_needs_authentication(document):
    seen = 0
    for path, method, operation in operations(document):
        responses = operation["responses"]
        assert "422" in responses, (method, path)
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), (method, path)
        else:
            assert "401" not in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert "400" in responses, (method, path)
        if method in {"post", "put", "patch", "delete"}:
            assert "409" in responses, (method, path)
        seen += 1
    assert seen > 50


def test_every_error_response_points_at_the_one_error_schema(document):
    assert document["components"]["schemas"]["Error"]["required"] == ["detail", "code"]
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)


def test_the_operations_that_take_files_or_are_rate_limited_say_so(document):
    paths = document["paths"]
    assert "413" in paths["/api/v1/cases/{case_id}/messages"]["post"]["responses"]
    assert "413" in paths["/api/v1/purchases/import"]["post"]["responses"]
    assert "413" not in paths["/api/v1/cases/{case_id}"]["patch"]["responses"]
    assert "429" in paths["/api/v1/knowledge/public/search"]["get"]["responses"]
    # A case named in the body or the query, not the path, may be one the caller cannot see.
    assert "404" in paths["/api/v1/knowledge/articles/from-case"]["post"]["responses"]
    assert "404" in paths["/api/v1/knowledge/macros"]["get"]["responses"]
    assert "404" not in paths["/api/v1/cases"]["get"]["responses"]
    download = paths["/api/v1/cases/{case_id}/attachments/{attachment_id}"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(download["responses"])


def test_the_documented_error_body_is_the_one_the_api_sends(api, document, settings):
    agent = make_agent()
    agent_headers = bearer(agent)
    customer_user = make_customer_user()
    case = make_case(customer=customer_user.customer, actor=agent)
    settings.MAX_ATTACHMENT_BYTES = 10
    big_note = {
        "direction": "note",
        "text": "the log",
        "attachments": [
            {"filename": "big.log", "content_base64": base64.b64encode(b"x" * 100).decode()}
        ],
    }
    messages = f"/api/v1/cases/{case.pk}/messages"
    # status: (documented path, method, the real answer)
    answers = {
        400: (
            "/api/v1/cases/{case_id}/messages",
            "post",
            api.client.post(
                messages, "{not json", content_type="application/json", headers=agent_headers
            ),
        ),
        401: ("/api/v1/cases", "get", api.get("/api/v1/cases")),
        403: (
            "/api/v1/cases/{case_id}/events",
            "get",
            api.get(f"/api/v1/cases/{case.pk}/events", headers=bearer(customer_user)),
        ),
        404: (
            "/api/v1/cases/{case_id}",
            "get",
            api.get("/api/v1/cases/999999", headers=agent_headers),
        ),
        409: (
            "/api/v1/cases/{case_id}/transitions",
            "post",
            api.post(
                f"/api/v1/cases/{case.pk}/transitions", {"to": "solved"}, headers=agent_headers
            ),
        ),
        413: (
            "/api/v1/cases/{case_id}/messages",
            "post",
            api.post(messages, big_note, headers=agent_headers),
        ),
        422: (
            "/api/v1/cases/{case_id}",
            "patch",
            api.patch(f"/api/v1/cases/{case.pk}", {"priority": "asap"}, headers=agent_headers),
        ),
    }
    for status, (path, method, response) in answers.items():
        assert response.status_code == status, (status, response.content)
        assert str(status) in document["paths"][path][method]["responses"], (status, path)
        assert_is_an_error_body(response.json())
    codes = {status: answer[2].json()["code"] for status, answer in answers.items()}
    assert codes[400] == "malformed"
    assert codes[401] == "unauthenticated"
    assert codes[403] == "forbidden"
    assert codes[404] == "not_found"
    assert codes[409] == "invalid_transition"
    assert codes[413] == "attachment_too_large"
    assert codes[422] == "invalid"
    assert answers[422][2].json()["errors"][0]["field"] == "priority"


def test_a_django_validation_error_has_the_same_shape():
    from django.core.exceptions import ValidationError

    from caseloop.api.api import _django_validation

    response = _django_validation(None, ValidationError({"email": ["Enter a valid email."]}))
    body = json.loads(response.content)
    assert_is_an_error_body(body)
    assert body["errors"] == [
        {"field": "email", "message": "Enter a valid email.", "type": "invalid"}
    ]


@pytest.mark.parametrize(("status", "kind"), sorted(STATUS_CODES.items()))
def test_the_generic_codes_are_the_kinds_lib_errors_maps_to_those_statuses(status, kind):
    class Probe(DomainError):
        pass

    Probe.kind = kind
    assert http_status_for(Probe()) == status
