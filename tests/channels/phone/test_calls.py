import pytest

from caseloop.cases.models import Case, CaseEvent, Message
from caseloop.channels.phone.models import CallLog
from caseloop.customers.models import ContactPoint
from tests.builders import bearer, make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db


def log(api, agent, **fields):
    body = {"direction": "inbound", "phone": "+1 415 555 0100", "duration_seconds": 185}
    body.update(fields)
    return api.post("/api/v1/calls", body, headers=bearer(agent))


def test_an_inbound_call_opens_a_case_for_the_number_owned_by_the_agent(
    api, django_capture_on_commit_callbacks
):
    agent = make_agent()
    with django_capture_on_commit_callbacks(execute=True):
        response = log(api, agent, name="Ann Lee", notes="Kettle sparks when switched on.")
    assert response.status_code == 201, response.content
    body = response.json()
    case = Case.objects.get(pk=body["case"]["id"])
    assert body["phone"] == "+14155550100" and body["agent"] == agent.username
    assert case.channel == "phone" and case.owner == agent and case.status == "open"
    assert ContactPoint.objects.get(customer=case.customer).value == "+14155550100"
    call = CallLog.objects.get()
    assert call.message.direction == "inbound" and call.message.text.startswith("Kettle sparks")
    assert call.duration_seconds == 185
    event = CaseEvent.objects.get(case=case, kind="call_logged")
    assert event.actor == agent and event.data["duration_seconds"] == 185
    # the acknowledgement is recorded; the phone has no sender, so delivery is n/a
    ack = case.messages.get(direction="outbound")
    assert case.reference in ack.text and ack.delivery_status == Message.Delivery.NOT_APPLICABLE


def test_a_known_number_finds_the_customer_and_a_reference_adds_to_the_case(api):
    agent = make_agent()
    customer = make_customer(phone="+14155550111")
    case = make_case(customer=customer, channel="email")
    response = log(
        api, agent, phone="(415) 555-0111", case_reference=case.reference, notes="Called back"
    )
    assert response.status_code == 201
    assert response.json()["case"]["id"] == case.pk
    assert response.json()["customer_id"] == customer.pk
    assert case.messages.filter(direction="inbound", channel="phone").count() == 1


def test_an_outbound_call_on_a_case_is_the_first_response(api):
    agent = make_agent()
    case = make_case(customer=make_customer(phone="+14155550122"))
    response = log(
        api,
        agent,
        direction="outbound",
        phone="+14155550122",
        case_reference=case.reference,
        notes="Explained the refund",
    )
    assert response.status_code == 201
    case.refresh_from_db()
    assert case.first_response_at is not None and case.owner == agent
    message = Message.objects.get(pk=response.json()["message_id"])
    assert message.direction == "outbound" and message.author_user == agent


def test_an_outbound_call_without_a_case_opens_one_owned_by_the_agent(api):
    agent = make_agent()
    response = log(api, agent, direction="outbound", phone="+14155550133", subject="Recall")
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["case"]["id"])
    assert case.subject == "Recall" and case.owner == agent and case.channel == "phone"


def test_bad_numbers_unknown_cases_and_bad_directions_are_422(api):
    agent = make_agent()
    bad_phone = log(api, agent, phone="not a number")
    assert bad_phone.status_code == 422 and bad_phone.json()["field"] == "phone"
    unknown = log(api, agent, case_reference="CL-999999")
    assert unknown.status_code == 422 and unknown.json()["field"] == "case_reference"
    direction = log(api, agent, direction="sideways")
    assert direction.status_code == 422 and direction.json()["field"] == "direction"
    negative = log(api, agent, duration_seconds=-5)
    assert negative.status_code == 422
    assert not Case.objects.exists()


def test_customers_cannot_log_calls(api):
    assert log(api, make_customer_user()).status_code == 403


def test_the_caller_lookup_names_the_customer_and_open_cases(api):
    agent = make_agent()
    customer = make_customer(phone="+442079460000", name="Ann")
    case = make_case(customer=customer)
    found = api.get("/api/v1/calls/caller", headers=bearer(agent), phone="+44 20 7946 0000")
    assert found.status_code == 200
    assert found.json()["customer_id"] == customer.pk
    assert [c["reference"] for c in found.json()["open_cases"]] == [case.reference]
    unknown = api.get("/api/v1/calls/caller", headers=bearer(agent), phone="+14155550199")
    assert unknown.json()["customer_id"] is None and unknown.json()["open_cases"] == []


def test_the_call_list_is_one_query_per_page(api, django_assert_max_num_queries):
    agent = make_agent()
    for n in range(5):
        log(api, agent, phone=f"+1415555015{n}")
    headers = bearer(agent)
    with django_assert_max_num_queries(4):
        listed = api.get("/api/v1/calls", headers=headers)
    assert len(listed.json()) == 5
    only = api.get("/api/v1/calls", headers=headers, phone="+14155550152").json()
    assert [call["phone"] for call in only] == ["+14155550152"]


def test_the_agent_form_logs_a_call_and_shows_the_case(client):
    agent = make_agent()
    client.force_login(agent)
    assert 'name="csrfmiddlewaretoken"' in client.get("/channels/phone/log/").content.decode()
    response = client.post(
        "/channels/phone/log/",
        {
            "direction": "inbound",
            "phone": "+14155550177",
            "name": "Bo",
            "duration_minutes": 2,
            "duration_extra_seconds": 5,
            "notes": "Wants a refund",
        },
    )
    call = CallLog.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{call.case_id}/"
    assert call.duration_seconds == 125 and call.agent == agent


def test_the_agent_form_explains_a_bad_number(client):
    client.force_login(make_agent())
    response = client.post(
        "/channels/phone/log/",
        {
            "direction": "inbound",
            "phone": "abc",
            "duration_minutes": 0,
            "duration_extra_seconds": 0,
        },
    )
    assert response.status_code == 400 and "country code" in response.content.decode()
    assert not CallLog.objects.exists()


def test_the_case_page_lists_its_calls_and_links_to_the_call_form(client, api):
    agent = make_agent()
    response = log(api, agent, notes="First call")
    case_id = response.json()["case"]["id"]
    reference = response.json()["case"]["reference"]
    client.force_login(agent)
    page = client.get(f"/cases/{case_id}/").content.decode()
    assert 'id="panel-calls"' in page and "+14155550100" in page
    assert f'href="/channels/phone/log/?case={reference}"' in page
    form = client.get(f"/channels/phone/log/?case={reference}").content.decode()
    assert f'value="{reference}"' in form
