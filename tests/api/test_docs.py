import json

import pytest

pytestmark = pytest.mark.django_db

CONTRACT = {
    "/api/v1/cases": {"get", "post"},
    "/api/v1/cases/{case_id}": {"get", "patch"},
    "/api/v1/cases/{case_id}/transitions": {"post"},
    "/api/v1/cases/{case_id}/messages": {"get", "post"},
    "/api/v1/cases/{case_id}/events": {"get"},
    "/api/v1/cases/{case_id}/ownership": {"post"},
    "/api/v1/customers": {"get", "post"},
    "/api/v1/customers/{customer_id}": {"get"},
    "/api/v1/customers/{customer_id}/merge": {"post"},
    "/api/v1/purchases/import": {"post"},
}


def test_the_openapi_document_is_valid_json_listing_the_contract(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.content)
    assert document["openapi"].startswith("3.")
    for path, methods in CONTRACT.items():
        assert path in document["paths"], path
        assert methods <= set(document["paths"][path]), path
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_the_interactive_docs_page_is_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
