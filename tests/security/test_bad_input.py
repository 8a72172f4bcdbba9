"""Hostile input never reaches the database as a 500: NUL characters and unpaired surrogates
in any query parameter or body, and JSON nested too deep, are refused before the view — 422
in the API's error shape, 400 for pages. Run on SQLite and on PostgreSQL (which refuses
U+0000 in text where SQLite stores it)."""

import json

import pytest

from caseloop.cases.models import Case, Message
from caseloop.lib.inputcheck import json_depth_exceeds
from caseloop.lib.text import bytes_decode, data_clean, text_clean, text_fault
from tests.builders import bearer, make_agent, make_case

pytestmark = pytest.mark.django_db

NUL = "\x00"
SURROGATE = "\ud800"


def raw_json(client, method, path, payload, headers=None):
    """Send `payload` as JSON with ASCII escapes, the way a hostile client writes
    "\\u0000" and "\\ud800"."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    send = getattr(client, method.lower())
    return send(path, body, content_type="application/json", headers=headers or {})


def assert_refused_in_api_shape(response, code="text_unstorable"):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == code and body["detail"]


def test_a_nul_in_the_public_help_search_is_a_400_page_not_a_500(client):
    response = client.get("/help/search/?q=%00")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_a_percent_encoded_surrogate_in_a_query_is_read_as_replacement_characters(client):
    # Django decodes invalid UTF-8 in the query string with U+FFFD: nothing to refuse.
    assert client.get("/help/search/?q=%ED%A0%80").status_code == 200


def test_a_nul_in_the_public_knowledge_search_api_is_422(client):
    response = client.get("/api/v1/knowledge/public/search?q=kettle%00")
    assert_refused_in_api_shape(response)
    assert response.json()["field"] == "q"


@pytest.mark.parametrize("param", ["q", "team", "owner", "priority", "category", "assignee"])
def test_a_nul_in_any_case_list_filter_is_422(client, param):
    agent = make_agent()
    response = client.get(f"/api/v1/cases?{param}=a%00b", headers=bearer(agent))
    assert_refused_in_api_shape(response)
    assert response.json()["field"] == param


def test_a_nul_in_the_customer_search_is_422(client):
    response = client.get("/api/v1/customers?q=%00", headers=bearer(make_agent()))
    assert_refused_in_api_shape(response)


def test_a_nul_in_a_parameter_name_is_refused_too(client):
    response = client.get("/api/v1/customers?q%00=ann", headers=bearer(make_agent()))
    assert_refused_in_api_shape(response)


@pytest.mark.parametrize("bad", [NUL, SURROGATE, "\udfff"])
def test_a_case_subject_with_a_nul_or_lone_surrogate_is_422_and_nothing_is_stored(client, bad):
    agent = make_agent()
    payload = {
        "customer": {"email": "ann@example.com", "name": "Ann"},
        "subject": f"Kettle{bad}leaks",
        "message": {"text": "Water comes out of the base."},
    }
    response = raw_json(client, "post", "/api/v1/cases", payload, bearer(agent))
    assert_refused_in_api_shape(response)
    assert response.json()["field"] == "subject"
    assert not Case.objects.exists()


def test_a_nested_field_and_a_key_are_checked(client):
    agent = make_agent()
    nested = {"customer": {"email": "ann@example.com", "name": f"A{NUL}"}, "subject": "s"}
    response = raw_json(client, "post", "/api/v1/cases", nested, bearer(agent))
    assert_refused_in_api_shape(response)
    assert response.json()["field"] == "customer.name"
    keyed = raw_json(client, "post", "/api/v1/cases", {f"k{SURROGATE}": 1}, bearer(agent))
    assert_refused_in_api_shape(keyed)


def test_a_valid_surrogate_pair_escape_is_an_emoji_and_is_stored(client):
    agent = make_agent()
    payload = {
        "customer": {"email": "ann@example.com", "name": "Ann"},
        "subject": "Kettle leaks",
        "message": {"text": "It is broken \\ud83d\\ude22"},
    }
    body = json.dumps(payload).replace("\\\\ud83d\\\\ude22", "\\ud83d\\ude22")
    response = raw_json(client, "post", "/api/v1/cases", body, bearer(agent))
    assert response.status_code == 201, response.content
    assert Message.objects.get().text == "It is broken \U0001f622"


def test_an_escaped_backslash_before_u0000_is_plain_text_not_a_nul(client):
    agent = make_agent()
    payload = {
        "customer": {"email": "ann@example.com", "name": "Ann"},
        "subject": "Path C:\\u0000 oddity",
        "message": {"text": "see subject"},
    }
    response = raw_json(client, "post", "/api/v1/cases", payload, bearer(agent))
    assert response.status_code == 201, response.content
    assert Case.objects.get().subject == "Path C:\\u0000 oddity"


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_a_patch_with_a_nul_or_surrogate_is_422_and_changes_nothing(client, bad):
    agent = make_agent()
    case = make_case(subject="Kettle leaks")
    for payload in ({"subject": f"New{bad}"}, {"team": bad}, {"tags": ["ok", bad]}):
        response = raw_json(client, "patch", f"/api/v1/cases/{case.pk}", payload, bearer(agent))
        assert_refused_in_api_shape(response)
    case.refresh_from_db()
    assert case.subject == "Kettle leaks"


def test_a_raw_nul_byte_in_a_json_body_is_422(client):
    agent = make_agent()
    case = make_case()
    body = b'{"subject": "a\x00b"}'
    response = client.patch(
        f"/api/v1/cases/{case.pk}", body, content_type="application/json", headers=bearer(agent)
    )
    assert_refused_in_api_shape(response)


def test_a_nul_in_a_sign_in_form_is_a_400_page(client):
    response = client.post("/login/", {"username": f"ann{NUL}", "password": "pw"})
    assert response.status_code == 400


def test_a_nul_in_a_multipart_message_is_422(client):
    agent = make_agent()
    case = make_case()
    response = client.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": f"hello{NUL}", "direction": "note"},
        headers=bearer(agent),
    )
    assert_refused_in_api_shape(response)
    assert not case.messages.filter(direction="note").exists()


# -- JSON depth ------------------------------------------------------------------------------


def test_a_message_nested_a_thousand_levels_deep_is_422_not_a_recursion_error(client):
    agent = make_agent()
    case = make_case()
    deep = '{"text": "hi", "x": ' + "[" * 1000 + "]" * 1000 + "}"
    response = raw_json(client, "post", f"/api/v1/cases/{case.pk}/messages", deep, bearer(agent))
    assert_refused_in_api_shape(response, code="json_too_deep")
    assert "32" in response.json()["detail"]


def test_json_at_the_depth_limit_is_parsed_as_usual(client, settings):
    settings.MAX_JSON_DEPTH = 4
    agent = make_agent()
    case = make_case()
    ok = '{"text": "hi", "x": [[{"y": 1}]]}'  # four levels
    response = raw_json(client, "post", f"/api/v1/cases/{case.pk}/messages", ok, bearer(agent))
    assert response.status_code in (201, 422)
    assert response.json().get("code") != "json_too_deep"
    too_deep = '{"text": "hi", "x": [[{"y": []}]]}'  # five
    response = raw_json(
        client, "post", f"/api/v1/cases/{case.pk}/messages", too_deep, bearer(agent)
    )
    assert_refused_in_api_shape(response, code="json_too_deep")


def test_brackets_inside_strings_do_not_count_as_depth():
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 100 + b'\\"' + b"{" * 100 + b'"}', 32)
    assert json_depth_exceeds(b"[" * 33 + b"]" * 33, 32)
    assert not json_depth_exceeds(b"[" * 32 + b"]" * 32, 32)
    assert not json_depth_exceeds(b"[[]]" * 1000, 32)


# -- the helpers channels use ----------------------------------------------------------------


def test_text_clean_removes_nul_and_replaces_lone_surrogates():
    assert text_clean(f"a{NUL}b{SURROGATE}c") == "ab\ufffdc"
    assert text_clean("Grüße \U0001f622") == "Grüße \U0001f622"
    assert text_fault("fine") == "" and "U+0000" in text_fault(NUL)
    assert "U+D800" in text_fault(SURROGATE)
    assert data_clean({f"k{NUL}": [f"v{NUL}", 1, None, {"x": SURROGATE}]}) == {
        "k": ["v", 1, None, {"x": "\ufffd"}]
    }


@pytest.mark.parametrize(
    "data, encoding",
    [
        ("Müller;€".encode(), "utf-8"),
        ("\ufeffMüller;€".encode(), "utf-8-sig"),
        ("Müller;€".encode("utf-16"), "utf-16"),
        ("Müller;€".encode("cp1252"), "cp1252"),
        ("Müller".encode("latin-1") + b"\x81", "latin-1"),
    ],
)
def test_bytes_decode_reads_boms_utf8_then_windows_1252(data, encoding):
    text, found = bytes_decode(data)
    assert found == encoding
    assert text.startswith("Müller")
