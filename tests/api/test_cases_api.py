import base64
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caseloop.cases.models import Attachment, Case
from caseloop.cases.services import message_add
from tests.builders import bearer, make_agent, make_case, make_customer_user

pytestmark = pytest.mark.django_db


def create_body(**overrides):
    body = {
        "customer": {"email": "ann@example.com", "name": "Ann"},
        "subject": "Kettle leaks",
        "message": {"text": "Water comes out of the base."},
        "channel": "email",
    }
    body.update(overrides)
    return body


# -- create ----------------------------------------------------------------------------------


def test_create_answers_201_with_the_contract_fields(api):
    agent = make_agent()
    response = api.post("/api/v1/cases", create_body(priority="high"), headers=bearer(agent))
    assert response.status_code == 201, response.content
    body = response.json()
    assert {"id", "reference", "status", "owner", "customer", "allowed_transitions"} <= set(body)
    assert body["reference"] == f"CL-{body['id']:06d}"
    assert body["priority"] == "high" and body["channel"] == "email"


def test_a_case_read_says_since_when_the_customer_has_waited_for_a_reply(api):
    agent = make_agent()
    created = api.post("/api/v1/cases", create_body(), headers=bearer(agent)).json()
    assert created["awaiting_reply_since"] is not None
    reply = {"text": "A new base is on its way.", "direction": "outbound"}
    posted = api.post(f"/api/v1/cases/{created['id']}/messages", reply, headers=bearer(agent))
    assert posted.status_code == 201, posted.content
    read = api.get(f"/api/v1/cases/{created['id']}", headers=bearer(agent)).json()
    assert read["awaiting_reply_since"] is None


def test_the_same_idempotency_key_returns_the_first_case_with_200(api):
    agent = make_agent()
    headers = {**bearer(agent), "Idempotency-Key": "retry-7f1c"}
    first = api.post("/api/v1/cases", create_body(), headers=headers)
    second = api.post("/api/v1/cases", create_body(subject="Changed"), headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["subject"] == "Kettle leaks"
    assert Case.objects.count() == 1


def test_idempotency_keys_of_different_users_are_independent(api):
    ann, bob = make_agent(), make_agent()
    key = {"Idempotency-Key": "same-key"}
    first = api.post("/api/v1/cases", create_body(), headers={**bearer(ann), **key})
    second = api.post("/api/v1/cases", create_body(), headers={**bearer(bob), **key})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_without_a_key_each_create_is_a_new_case(api):
    agent = make_agent()
    api.post("/api/v1/cases", create_body(), headers=bearer(agent))
    api.post("/api/v1/cases", create_body(), headers=bearer(agent))
    assert Case.objects.count() == 2


def test_a_customer_token_opens_cases_for_that_customer_only(api):
    user = make_customer_user()
    response = api.post(
        "/api/v1/cases",
        create_body(customer={"email": "someone-else@example.com"}),
        headers=bearer(user),
    )
    assert response.status_code == 201
    assert response.json()["customer"]["id"] == user.customer_id
    assert response.json()["owner"] is None


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (create_body(channel="pigeon"), "channel"),
        (create_body(subject=""), "subject"),
        ({k: v for k, v in create_body().items() if k != "subject"}, "subject"),
        (create_body(priority="whenever"), "priority"),
        (create_body(message={}), "message.text"),
        (create_body(customer={}), "customer"),
    ],
)
def test_invalid_create_payloads_are_422_naming_the_field(api, body, field):
    response = api.post("/api/v1/cases", body, headers=bearer(make_agent()))
    assert response.status_code == 422, response.content
    fields = [e["field"] for e in response.json()["errors"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), fields


def test_a_bad_customer_email_is_422_naming_the_field(api):
    response = api.post(
        "/api/v1/cases",
        create_body(customer={"email": "not-an-email"}),
        headers=bearer(make_agent()),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "customer.email"
    assert Case.objects.count() == 0


def test_an_unknown_category_is_422(api):
    response = api.post("/api/v1/cases", create_body(category="nope"), headers=bearer(make_agent()))
    assert response.status_code == 422 and response.json()["field"] == "category"


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "open,sleeping"}, "status"), ({"cursor": "!!not-a-cursor"}, "cursor")],
)
def test_bad_list_filters_are_422_naming_the_field(api, params, field):
    response = api.get("/api/v1/cases", headers=bearer(make_agent()), **params)
    assert response.status_code == 422
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "path", ["/api/v1/cases", "/api/v1/cases/{id}/messages", "/api/v1/cases/{id}/transitions"]
)
def test_malformed_json_is_a_clean_4xx(client, path):
    agent = make_agent()
    case = make_case(actor=agent)
    response = client.post(
        path.format(id=case.pk),
        b'{"subject": "half',
        content_type="application/json",
        headers=bearer(agent),
    )
    assert 400 <= response.status_code < 500
    assert "detail" in response.json()


def test_a_bad_priority_in_a_patch_is_422(api):
    agent = make_agent()
    case = make_case(actor=agent)
    response = api.patch(f"/api/v1/cases/{case.pk}", {"priority": "asap"}, headers=bearer(agent))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "priority"
    unknown_team = api.patch(f"/api/v1/cases/{case.pk}", {"team": "x"}, headers=bearer(agent))
    assert unknown_team.status_code == 422 and unknown_team.json()["field"] == "team"


# -- transitions -----------------------------------------------------------------------------


def test_an_illegal_transition_is_409_naming_the_allowed_ones(api):
    agent = make_agent()
    case = make_case(actor=agent)
    response = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "solved"}, headers=bearer(agent)
    )
    assert response.status_code == 409
    body = response.json()
    assert body["current"] == "new" and body["requested"] == "solved"
    assert body["allowed"] == ["open"] and "open" in body["detail"]


def test_a_legal_transition_answers_the_updated_case(api):
    agent = make_agent()
    case = make_case(actor=agent)
    response = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "open"}, headers=bearer(agent)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert "solved" in response.json()["allowed_transitions"]


def test_a_customer_may_confirm_or_reopen_but_not_move_a_case_otherwise(api):
    user = make_customer_user()
    agent = make_agent()
    case = make_case(customer=user.customer)
    message_add(case=case, direction="outbound", text="Fixed", actor=agent)
    refused = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "solved"}, headers=bearer(user)
    )
    assert refused.status_code == 403
    api.post(f"/api/v1/cases/{case.pk}/transitions", {"to": "solved"}, headers=bearer(agent))
    confirmed = api.post(
        f"/api/v1/cases/{case.pk}/transitions", {"to": "closed"}, headers=bearer(user)
    )
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "closed"


# -- permission isolation --------------------------------------------------------------------


def test_customer_a_cannot_reach_customer_b_by_any_path(api):
    ann, bob = make_customer_user(), make_customer_user()
    agent = make_agent()
    bobs = make_case(customer=bob.customer)
    message_add(case=bobs, direction="outbound", text="Reply to Bob", actor=agent)
    make_case(customer=ann.customer, subject="Ann's own case")
    as_ann = bearer(ann)
    assert api.get(f"/api/v1/cases/{bobs.pk}", headers=as_ann).status_code == 404
    assert api.get(f"/api/v1/cases/{bobs.reference}", headers=as_ann).status_code == 404
    assert api.get(f"/api/v1/cases/{bobs.pk}/messages", headers=as_ann).status_code == 404
    post = api.post(f"/api/v1/cases/{bobs.pk}/messages", {"text": "hi"}, headers=as_ann)
    assert post.status_code == 404
    listed = api.get("/api/v1/cases", headers=as_ann).json()["items"]
    assert [c["subject"] for c in listed] == ["Ann's own case"]
    by_filter = api.get("/api/v1/cases", headers=as_ann, customer=bob.customer_id)
    assert by_filter.json()["items"] == []
    assert api.get(f"/api/v1/customers/{bob.customer_id}", headers=as_ann).status_code == 404
    # Events are for agents: the answer is the same for any case, so nothing leaks.
    own = Case.objects.get(customer=ann.customer)
    assert api.get(f"/api/v1/cases/{bobs.pk}/events", headers=as_ann).status_code == 403
    assert api.get(f"/api/v1/cases/{own.pk}/events", headers=as_ann).status_code == 403
    assert api.get("/api/v1/cases/999999", headers=as_ann).status_code == 404


def test_a_customer_cannot_patch_even_their_own_case(api):
    user = make_customer_user()
    case = make_case(customer=user.customer)
    response = api.patch(f"/api/v1/cases/{case.pk}", {"priority": "urgent"}, headers=bearer(user))
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.priority == "normal"


def test_a_customer_never_sees_internal_notes(api):
    user = make_customer_user()
    agent = make_agent()
    case = make_case(customer=user.customer)
    message_add(case=case, direction="note", text="Customer seems upset", actor=agent)
    message_add(case=case, direction="outbound", text="Sorry about that!", actor=agent)
    seen = api.get(f"/api/v1/cases/{case.pk}/messages", headers=bearer(user)).json()
    assert [m["direction"] for m in seen] == ["inbound", "outbound"]
    staff = api.get(f"/api/v1/cases/{case.pk}/messages", headers=bearer(agent)).json()
    assert "note" in [m["direction"] for m in staff]


def test_a_customer_can_only_add_inbound_messages(api):
    user = make_customer_user()
    case = make_case(customer=user.customer)
    refused = api.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": "psst", "direction": "note"},
        headers=bearer(user),
    )
    assert refused.status_code == 403
    added = api.post(
        f"/api/v1/cases/{case.pk}/messages", {"text": "More info"}, headers=bearer(user)
    )
    assert added.status_code == 201 and added.json()["direction"] == "inbound"


# -- attachments -----------------------------------------------------------------------------


def test_json_attachments_are_decoded_and_stored_under_media_root(api, settings):
    agent = make_agent()
    case = make_case(actor=agent)
    content = b"order NW-1001, paid 49.00"
    response = api.post(
        f"/api/v1/cases/{case.pk}/messages",
        {
            "text": "Receipt attached",
            "direction": "note",
            "attachments": [
                {
                    "filename": "receipt.txt",
                    "content_base64": base64.b64encode(content).decode(),
                    "content_type": "text/plain",
                }
            ],
        },
        headers=bearer(agent),
    )
    assert response.status_code == 201, response.content
    listed = response.json()["attachments"]
    assert [(a["filename"], a["size"]) for a in listed] == [("receipt.txt", len(content))]
    stored = Attachment.objects.get(pk=listed[0]["id"])
    path = Path(stored.file.path)
    assert path.is_relative_to(Path(settings.MEDIA_ROOT))
    assert path.read_bytes() == content


def test_multipart_attachments_are_stored(client, settings):
    agent = make_agent()
    case = make_case(actor=agent)
    photo = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    response = client.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": "Photo of the damage", "direction": "note", "attachments": [photo]},
        headers=bearer(agent),
    )
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(message_id=response.json()["id"])
    assert attachment.content_type == "image/png"
    assert Path(attachment.file.path).is_relative_to(Path(settings.MEDIA_ROOT))


def test_invalid_base64_is_422_naming_the_attachment(api):
    agent = make_agent()
    case = make_case(actor=agent)
    response = api.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": "x", "attachments": [{"filename": "a.txt", "content_base64": "@@@"}]},
        headers=bearer(agent),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "attachments.0.content_base64"


def test_attachments_over_the_limit_are_413_with_a_clear_message(api, client, settings):
    settings.MAX_ATTACHMENT_BYTES = 64
    agent = make_agent()
    case = make_case(actor=agent)
    big = b"x" * 65
    as_json = api.post(
        f"/api/v1/cases/{case.pk}/messages",
        {
            "text": "big",
            "attachments": [
                {"filename": "big.bin", "content_base64": base64.b64encode(big).decode()}
            ],
        },
        headers=bearer(agent),
    )
    assert as_json.status_code == 413
    assert "big.bin" in as_json.json()["detail"] and "64" in as_json.json()["detail"]
    upload = SimpleUploadedFile("big.bin", big)
    as_form = client.post(
        f"/api/v1/cases/{case.pk}/messages",
        {"text": "big", "attachments": [upload]},
        headers=bearer(agent),
    )
    assert as_form.status_code == 413
    assert not Attachment.objects.filter(case=case).exists()
    assert case.messages.count() == 1


# -- lists -----------------------------------------------------------------------------------


def test_cursor_pages_are_stable_under_inserts(api):
    agent = make_agent()
    originals = [make_case(subject=f"Case {n}").pk for n in range(7)]
    seen, cursor, inserted = [], "", []
    while True:
        page = api.get("/api/v1/cases", headers=bearer(agent), limit=3, cursor=cursor).json()
        seen += [c["id"] for c in page["items"]]
        inserted.append(make_case(subject="Arrived while paging").pk)
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(originals, reverse=True)
    assert len(seen) == len(set(seen))
    fresh = api.get("/api/v1/cases", headers=bearer(agent), limit=3).json()
    assert [c["id"] for c in fresh["items"]] == sorted(inserted, reverse=True)[:3]


def test_filters_by_status_team_owner_customer_and_reference(api):
    from tests.builders import make_team

    agent = make_agent()
    team = make_team(name="Billing")
    mine = make_case(subject="Double charge")
    message_add(case=mine, direction="outbound", text="Looking", actor=agent)
    api.patch(f"/api/v1/cases/{mine.pk}", {"team": team.slug}, headers=bearer(agent))
    other = make_case(subject="Late parcel")
    headers = bearer(agent)

    def ids(**params):
        response = api.get("/api/v1/cases", headers=headers, **params)
        assert response.status_code == 200
        return [c["id"] for c in response.json()["items"]]

    assert ids(status="open") == [mine.pk]
    assert ids(status="new,open") == [other.pk, mine.pk]
    assert ids(team=team.slug) == [mine.pk] == ids(team=str(team.pk))
    assert ids(owner=agent.username) == [mine.pk]
    assert ids(owner="none") == [other.pk]
    assert ids(customer=other.customer_id) == [other.pk]
    assert ids(q=other.reference) == [other.pk]
    assert ids(q="double") == [mine.pk]


def _cases_for_list(n):
    agent = make_agent()
    from tests.builders import make_category, make_team

    team, category = make_team(), make_category()
    for index in range(n):
        case = make_case(subject=f"Case {index}")
        message_add(case=case, direction="outbound", text="Hi", actor=agent)
        from caseloop.cases.services import case_update

        case_update(case=case, actor=agent, team=team, category=category, tags=["a", "b"])
    return agent


@pytest.mark.parametrize("rows", [5, 30])
def test_the_case_list_runs_a_constant_number_of_queries(api, django_assert_max_num_queries, rows):
    agent = _cases_for_list(rows)
    headers = bearer(agent)
    with django_assert_max_num_queries(6):
        response = api.get("/api/v1/cases", headers=headers)
    assert len(response.json()["items"]) == rows


@pytest.mark.parametrize("rows", [5, 30])
def test_the_customer_list_runs_a_constant_number_of_queries(
    api, django_assert_max_num_queries, rows
):
    from caseloop.customers.models import Organization
    from caseloop.customers.services import Identity, customer_create

    agent = make_agent()
    organization = Organization.objects.create(name="Harbour Lane")
    for index in range(rows):
        customer_create(
            name=f"Person {index}",
            organization=organization,
            identity=Identity(email=f"p{index}@example.com", phone=f"+1415555{index:04d}"),
        )
    headers = bearer(agent)
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/customers", headers=headers)
    items = response.json()["items"]
    assert len(items) == rows
    assert all(len(item["contact_points"]) == 2 for item in items)
    assert all(item["organization"] == "Harbour Lane" for item in items)


def test_the_case_detail_works_by_id_and_by_reference(api):
    agent = make_agent()
    case = make_case()
    by_id = api.get(f"/api/v1/cases/{case.pk}", headers=bearer(agent)).json()
    by_reference = api.get(f"/api/v1/cases/{case.reference.lower()}", headers=bearer(agent)).json()
    assert by_id == by_reference
    assert api.get("/api/v1/cases/CL-xyz", headers=bearer(agent)).status_code == 404


def test_unauthenticated_requests_are_401(api):
    response = api.get("/api/v1/cases")
    assert response.status_code == 401
    assert "Bearer" in json.loads(response.content)["detail"]


HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "params",
    [
        {"customer": HUGE},
        {"owner": HUGE},
        {"team": HUGE},
        {"assignee": HUGE},
        {"category": HUGE},
        {"team": "²"},
        {"q": "CL-²"},
    ],
)
def test_out_of_range_and_odd_digit_filters_find_nothing_instead_of_failing(api, params):
    agent = make_agent()
    make_case()
    response = api.get("/api/v1/cases", headers=bearer(agent), **params)
    assert response.status_code == 200
    assert response.json()["items"] == []


def test_a_cursor_beyond_every_id_is_read_as_from_the_start(api):
    agent = make_agent()
    case = make_case()
    cursor = base64.urlsafe_b64encode(HUGE.encode()).decode()
    response = api.get("/api/v1/cases", headers=bearer(agent), cursor=cursor)
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["items"]] == [case.pk]


@pytest.mark.parametrize("case_id", [HUGE, f"CL-{HUGE}", "²", "CL-²"])
def test_odd_case_ids_are_404(api, case_id):
    response = api.get(f"/api/v1/cases/{case_id}", headers=bearer(make_agent()))
    assert response.status_code == 404


def test_an_odd_customer_cursor_is_422(api):
    response = api.get("/api/v1/customers", headers=bearer(make_agent()), cursor="²")
    assert response.status_code == 422


def test_the_api_searches_like_the_inbox_conversations_for_agents_subjects_for_customers(
    api, django_capture_on_commit_callbacks
):
    agent = make_agent()
    customer_user = make_customer_user()
    with django_capture_on_commit_callbacks(execute=True):  # messages are indexed on commit
        kettle = make_case(
            customer=customer_user.customer, subject="Broken on arrival", text="The lid snapped"
        )
        message_add(case=kettle, direction="note", text="Kettle replacement sent", actor=agent)
        make_case(subject="Refund", text="The toaster never arrived")

    def found(user, q):
        response = api.get("/api/v1/cases", headers=bearer(user), q=q)
        assert response.status_code == 200
        return {item["reference"] for item in response.json()["items"]}

    assert found(agent, "kettle") == {kettle.reference}
    assert found(agent, str(kettle.pk)) == {kettle.reference}
    # A customer's search never looks into internal notes.
    assert found(customer_user, "kettle") == set()
    assert found(customer_user, "arrival") == {kettle.reference}


def test_an_api_reply_passes_the_reply_coach_like_the_composer(api):
    from caseloop.coach.models import CoachOverride

    agent = make_agent()
    case = make_case()
    blunt = {"text": "I can't help you with that.", "direction": "outbound"}
    refused = api.post(f"/api/v1/cases/{case.pk}/messages", blunt, headers=bearer(agent))
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "coach_objection" and body["findings"]
    assert not case.messages.filter(direction="outbound", author_user=agent).exists()
    sent = api.post(
        f"/api/v1/cases/{case.pk}/messages", {**blunt, "send_anyway": True}, headers=bearer(agent)
    )
    assert sent.status_code == 201
    assert CoachOverride.objects.filter(user=agent, case=case).count() == 1
    # Internal notes are not replies: the coach does not stand in their way.
    note = {"text": "I can't help you with that.", "direction": "note"}
    assert (
        api.post(f"/api/v1/cases/{case.pk}/messages", note, headers=bearer(agent)).status_code
        == 201
    )
