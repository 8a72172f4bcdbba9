import pytest

from caseloop.cases.models import CaseEvent, Message
from caseloop.knowledge.errors import MacroInvalid, MacroNotAllowed
from caseloop.knowledge.selectors import macros_for
from caseloop.knowledge.services import macro_apply, macro_create, macro_render, macro_update
from tests.builders import bearer, make_agent, make_case, make_customer, make_team

pytestmark = pytest.mark.django_db


def test_placeholders_are_filled_from_the_case_and_agent():
    agent = make_agent(first_name="Ada", last_name="Lovelace")
    case = make_case(customer=make_customer(name="Grace Hopper"), subject="Broken kettle")
    macro = macro_create(
        name="Ack",
        body="Hello {customer_first_name}, {agent_name} here about {case_reference} "
        "({subject}). Expect an answer {expected_response}. {{literal}}",
        actor=agent,
    )
    text = macro_render(macro=macro, case=case, agent=agent)
    assert text.startswith(
        f"Hello Grace, Ada Lovelace here about {case.reference} (Broken kettle)."
    )
    assert "Expect an answer by " in text or "Expect an answer within" in text
    assert "{expected_response}" not in text
    assert text.endswith("{literal}")


def test_expected_response_uses_the_first_response_target_when_there_is_one():
    from django.utils import timezone

    from caseloop.automation.selectors import case_first_response_due

    agent = make_agent()
    case = make_case()
    macro = macro_create(name="When", body="{expected_response}", actor=agent)
    due = timezone.localtime(case_first_response_due(case=case))
    assert macro_render(macro=macro, case=case, agent=agent).startswith(f"by {due:%A %d %B %Y}")


@pytest.mark.parametrize(
    "body, unknown",
    [
        ("Hi {customer_nme}", "customer_nme"),
        ("Hi {customer_name.__class__}", "customer_name.__class__"),
        ("Hi {customer_name!r}", "customer_name"),
        ("Hi {0}", "0"),
    ],
)
def test_unknown_placeholders_are_refused_at_save(body, unknown):
    with pytest.raises(MacroInvalid) as refused:
        macro_create(name="Bad", body=body, actor=make_agent())
    assert refused.value.payload["unknown_placeholders"] == [unknown]
    assert unknown in str(refused.value)


def test_unbalanced_braces_are_refused():
    with pytest.raises(MacroInvalid):
        macro_create(name="Bad", body="Hi {customer_name", actor=make_agent())


def test_applying_a_macro_replies_and_runs_its_actions_with_events():
    agent = make_agent()
    case = make_case(customer=make_customer(name="Grace Hopper"))
    macro = macro_create(
        name="Need details",
        body="Hi {customer_name}, could you send a photo?",
        actor=agent,
        set_status="pending_customer",
        add_tags=["needs-photo"],
    )
    message = macro_apply(macro=macro, case=case, agent=agent)
    assert message.direction == Message.Direction.OUTBOUND
    assert message.text == "Hi Grace Hopper, could you send a photo?"
    case.refresh_from_db()
    assert case.status == "pending_customer"
    assert list(case.tags.values_list("name", flat=True)) == ["needs-photo"]
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert "tags_changed" in kinds and "macro_applied" in kinds
    statuses = [e.data["after"] for e in CaseEvent.objects.filter(case=case, kind="status_changed")]
    assert statuses == ["open", "pending_customer"]
    macro.refresh_from_db()
    assert macro.times_used == 1


def test_team_macros_are_for_that_teams_members():
    member, outsider = make_agent(), make_agent()
    team = make_team(members=[member])
    global_macro = macro_create(name="Global", body="Hi", actor=member)
    team_macro = macro_create(name="Team only", body="Hi team", actor=member, team=team)
    assert set(macros_for(user=member)) == {global_macro, team_macro}
    assert list(macros_for(user=outsider)) == [global_macro]
    with pytest.raises(MacroNotAllowed):
        macro_apply(macro=team_macro, case=make_case(), agent=outsider)
    macro_update(macro=global_macro, actor=member, is_active=False)
    assert list(macros_for(user=outsider)) == []


def test_macro_api_validates_renders_and_applies(api):
    agent = make_agent(first_name="Ada")
    headers = bearer(agent)
    refused = api.post(
        "/api/v1/knowledge/macros", {"name": "Bad", "body": "Hi {nme}"}, headers=headers
    )
    assert refused.status_code == 422
    assert refused.json()["unknown_placeholders"] == ["nme"]
    created = api.post(
        "/api/v1/knowledge/macros",
        {
            "name": "Thanks",
            "body": "Thanks {customer_name}, {agent_first_name}",
            "set_status": "solved",
            "add_tags": ["thanked"],
        },
        headers=headers,
    )
    assert created.status_code == 201
    macro_id = created.json()["id"]
    assert created.json()["placeholders"] == ["customer_name", "agent_first_name"]
    case = make_case(customer=make_customer(name="Grace"))
    rendered = api.get(
        f"/api/v1/knowledge/macros/{macro_id}/render", headers=headers, case=case.reference
    )
    assert rendered.json()["text"] == "Thanks Grace, Ada"
    assert Message.objects.filter(case=case, direction="outbound").count() == 0
    applied = api.post(
        f"/api/v1/knowledge/macros/{macro_id}/apply", {"case": str(case.pk)}, headers=headers
    )
    assert applied.status_code == 200, applied.content
    assert applied.json()["case_status"] == "solved"
    assert applied.json()["case_tags"] == ["thanked"]
    patched = api.patch(f"/api/v1/knowledge/macros/{macro_id}", {"body": "{bad}"}, headers=headers)
    assert patched.status_code == 422
    # Deleting it goes through the service; the cases it was applied to keep their event.
    deleted = api.client.delete(f"/api/v1/knowledge/macros/{macro_id}", headers=headers)
    assert deleted.status_code == 204
    gone = api.get(f"/api/v1/knowledge/macros/{macro_id}", headers=headers)
    assert gone.status_code == 404
    assert CaseEvent.objects.filter(case=case, kind="macro_applied").exists()
