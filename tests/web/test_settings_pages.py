"""The desk's settings in the workspace: admins create, edit and delete business hours, SLA
policies, routing, authority limits and prepared responses; managers look; agents and
customers cannot; bad input is a 422 with the form and its errors; every change is kept."""

from __future__ import annotations

from datetime import date, time

import pytest

from caseloop.accounts.models import Role
from caseloop.automation.models import BusinessHours, SlaPolicy
from caseloop.cases.loop.models import AuthorityRule, RemedyType
from caseloop.knowledge.models import Macro
from caseloop.knowledge.services import macro_create
from caseloop.triage.models import RoutingRule, TeamRouting
from caseloop.web.models import SettingsChange
from tests.builders import make_agent, make_category, make_customer_user, make_team, make_user

pytestmark = pytest.mark.django_db

WEEK = {
    "day_0": "09:00-12:30, 13:30-17:00",
    "day_1": "09:00-17:00",
    "day_2": "09:00-17:00",
    "day_3": "09:00-17:00",
    "day_4": "09:00-16:00",
    "day_5": "",
    "day_6": "",
}


def admin():
    return make_user(role=Role.ADMIN)


def schedule_form(**overrides):
    return {
        "name": "London office",
        "timezone": "Europe/London",
        "is_default": "on",
        "holidays": "2026-12-25 Christmas Day\n2026-12-26 Boxing Day",
        **WEEK,
        **overrides,
    }


def test_an_admin_creates_and_edits_a_schedule_with_its_hours_and_holidays(client):
    boss = admin()
    client.force_login(boss)
    assert client.get("/settings/business-hours/new/").status_code == 200
    response = client.post("/settings/business-hours/new/", schedule_form())
    assert response.status_code == 302 and response["Location"] == "/settings/business-hours/"
    hours = BusinessHours.objects.get(name="London office")
    assert hours.is_default and hours.timezone == "Europe/London"
    assert [(i.weekday, i.start, i.end) for i in hours.intervals.all()][:3] == [
        (0, time(9), time(12, 30)),
        (0, time(13, 30), time(17)),
        (1, time(9), time(17)),
    ]
    assert hours.intervals.count() == 6
    assert [(h.date, h.name) for h in hours.holidays.all()] == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 26), "Boxing Day"),
    ]
    page = client.get(f"/settings/business-hours/{hours.pk}/")
    assert page.status_code == 200
    assert 'value="09:00-12:30, 13:30-17:00"' in page.content.decode()

    response = client.post(
        f"/settings/business-hours/{hours.pk}/",
        schedule_form(day_5="10:00-14:00", holidays="", is_default=""),
    )
    assert response.status_code == 302
    hours.refresh_from_db()
    assert not hours.is_default
    assert hours.intervals.filter(weekday=5).get().start == time(10)
    assert not hours.holidays.exists()
    created, updated = SettingsChange.objects.order_by("id")
    assert (created.kind, created.action, created.actor, created.object_id) == (
        "business-hours",
        "created",
        boss,
        hours.pk,
    )
    assert updated.action == "updated"
    assert updated.before["hours"]["0"] == "09:00-12:30, 13:30-17:00"
    assert "5" not in updated.before["hours"] and updated.after["hours"]["5"] == "10:00-14:00"
    assert updated.before["holidays"] and updated.after["holidays"] == []
    assert "London office" in client.get("/settings/").content.decode()


def test_making_a_schedule_the_default_takes_the_place_from_the_former_one(client):
    former = BusinessHours.objects.get(is_default=True)
    client.force_login(admin())
    assert client.post("/settings/business-hours/new/", schedule_form()).status_code == 302
    former.refresh_from_db()
    assert not former.is_default
    assert BusinessHours.objects.get(is_default=True).name == "London office"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("day_0", "17:00-09:00", "ends before it starts"),
        ("day_0", "nine to five", "is not a period"),
        ("day_0", "09:00-13:00, 12:00-17:00", "the periods overlap"),
        ("day_1", "25:00-26:00", "is not a time of day"),
        ("timezone", "Mars/Olympus", "not a known time zone"),
        ("holidays", "Christmas", "does not start with a date"),
        ("name", "", "This field is required"),
    ],
)
def test_a_bad_schedule_is_refused_with_the_form_and_its_error(client, field, value, message):
    client.force_login(admin())
    response = client.post("/settings/business-hours/new/", schedule_form(**{field: value}))
    assert response.status_code == 422
    assert message in response.content.decode()
    assert response.context["form"].errors[field]
    assert not BusinessHours.objects.filter(name="London office").exists()
    assert not SettingsChange.objects.exists()


def test_an_admin_sets_response_targets_and_bad_ones_are_refused(client):
    client.force_login(admin())
    form = {
        "name": "Urgent care",
        "position": "10",
        "is_active": "on",
        "priority": "urgent",
        "first_response_minutes": "30",
        "next_reply_minutes": "60",
        "resolution_minutes": "",
        "warn_percent": "80",
    }
    assert client.post("/settings/sla-policies/new/", form).status_code == 302
    policy = SlaPolicy.objects.get(name="Urgent care")
    assert (policy.first_response_minutes, policy.next_reply_minutes) == (30, 60)
    assert policy.resolution_minutes is None and policy.warn_percent == 80
    assert "30 min" in client.get("/settings/sla-policies/").content.decode()
    for bad, error in (
        ({"warn_percent": "150"}, "warn_percent"),
        ({"first_response_minutes": "0"}, "first_response_minutes"),
        ({"first_response_minutes": "-5"}, "first_response_minutes"),
        ({"priority": "whenever"}, "priority"),
        ({"name": "Urgent care"}, "name"),
    ):
        response = client.post("/settings/sla-policies/new/", {**form, "name": "Other", **bad})
        assert response.status_code == 422, bad
        assert error in response.context["form"].errors, bad
    assert not SlaPolicy.objects.filter(name="Other").exists()


def test_an_admin_edits_routing_rules_and_team_routing(client):
    billing, support = make_team(name="Billing"), make_team(name="Support")
    category = make_category(name="Refunds")
    client.force_login(admin())
    response = client.post(
        "/settings/routing-rules/new/",
        {"category": category.pk, "team": billing.pk, "order": "5", "is_active": "on"},
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get()
    assert (rule.category, rule.team, rule.order) == (category, billing, 5)
    response = client.post(
        f"/settings/routing-rules/{rule.pk}/",
        {"category": "", "team": support.pk, "order": "7", "is_active": "on"},
    )
    rule.refresh_from_db()
    assert response.status_code == 302 and rule.category is None and rule.team == support
    bad = client.post("/settings/routing-rules/new/", {"team": "99999", "order": "x"})
    assert bad.status_code == 422
    assert set(bad.context["form"].errors) == {"team", "order"}

    response = client.post(
        "/settings/team-routing/new/",
        {"team": billing.pk, "strategy": "least_loaded", "auto_assign": "on"},
    )
    assert response.status_code == 302
    routing = TeamRouting.objects.get(team=billing)
    assert routing.strategy == "least_loaded" and not routing.require_skill
    itself = client.post(
        f"/settings/team-routing/{routing.pk}/",
        {"team": billing.pk, "strategy": "round_robin", "overflow_team": billing.pk},
    )
    assert itself.status_code == 422 and "overflow to itself" in itself.content.decode()


def test_an_admin_sets_authority_limits_and_a_wrong_role_or_amount_is_refused(client):
    refund = RemedyType.objects.get(slug="refund")
    AuthorityRule.objects.all().delete()
    client.force_login(admin())
    form = {
        "remedy": refund.pk,
        "role": "agent",
        "min_tier": "1",
        "limit_amount": "50.00",
        "currency": "gbp",
    }
    assert client.post("/settings/authority/new/", form).status_code == 302
    rule = AuthorityRule.objects.get()
    assert (rule.role, str(rule.limit_amount), rule.currency) == ("agent", "50.00", "GBP")
    for bad, field in (
        ({"role": "customer"}, "role"),
        ({"limit_amount": "-1"}, "limit_amount"),
        ({"limit_amount": "lots"}, "limit_amount"),
        ({"currency": "pounds"}, "currency"),
        ({"min_tier": "0"}, "min_tier"),
    ):
        response = client.post("/settings/authority/new/", {**form, **bad})
        assert response.status_code == 422, bad
        assert field in response.context["form"].errors, bad
    assert AuthorityRule.objects.count() == 1


def test_an_admin_writes_edits_and_deletes_a_prepared_response(client):
    boss = admin()
    team = make_team(name="Returns")
    client.force_login(boss)
    form = {
        "name": "Return label",
        "body": "Hello {customer_name}, here is your label for {case_reference}.",
        "team": team.pk,
        "set_status": "pending_customer",
        "add_tags": "returns, Label",
        "is_active": "on",
    }
    assert client.post("/settings/macros/new/", form).status_code == 302
    macro = Macro.objects.get()
    assert (macro.team, macro.set_status, macro.created_by) == (team, "pending_customer", boss)
    assert sorted(macro.add_tags) == ["label", "returns"]
    unknown = client.post(f"/settings/macros/{macro.pk}/", {**form, "body": "Hi {nickname}"})
    assert unknown.status_code == 422 and "unknown placeholder" in unknown.content.decode()
    assert client.post("/settings/macros/new/", {**form, "set_status": "new"}).status_code == 422
    assert (
        client.post(f"/settings/macros/{macro.pk}/", {**form, "is_active": ""}).status_code == 302
    )
    macro.refresh_from_db()
    assert not macro.is_active and macro.body == form["body"]
    response = client.post(f"/settings/macros/{macro.pk}/delete/")
    assert response.status_code == 302 and not Macro.objects.exists()
    assert [c.action for c in SettingsChange.objects.filter(kind="macros").order_by("id")] == [
        "created",
        "updated",
        "deleted",
    ]
    deleted = SettingsChange.objects.get(action="deleted")
    assert deleted.before["name"] == "Return label" and deleted.after == {}


def test_managers_look_but_only_admins_change_settings(client):
    hours = BusinessHours.objects.create(name="Office")
    macro = macro_create(name="Hello", body="Hello", actor=None)
    manager = make_user(role=Role.MANAGER)
    client.force_login(manager)
    assert 'href="/settings/"' in client.get("/inbox/").content.decode()
    assert client.get("/settings/").status_code == 200
    listing = client.get("/settings/business-hours/")
    assert listing.status_code == 200 and "Office" in listing.content.decode()
    assert "/settings/business-hours/new/" not in listing.content.decode()
    page = client.get(f"/settings/business-hours/{hours.pk}/")
    assert page.status_code == 200
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert ">Save</button>" not in page.content.decode()
    assert client.get("/settings/business-hours/new/").status_code == 403
    changed = client.post(f"/settings/business-hours/{hours.pk}/", schedule_form(name="Mine"))
    assert changed.status_code == 403
    assert client.post(f"/settings/macros/{macro.pk}/delete/").status_code == 403
    hours.refresh_from_db()
    assert hours.name == "Office" and Macro.objects.exists()
    assert not SettingsChange.objects.exists()


def test_agents_cannot_open_or_change_settings_and_customers_go_to_their_portal(client):
    hours = BusinessHours.objects.create(name="Office")
    client.force_login(make_agent())
    assert 'href="/settings/"' not in client.get("/inbox/").content.decode()
    for url in ("/settings/", "/settings/business-hours/", f"/settings/business-hours/{hours.pk}/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/settings/business-hours/new/", schedule_form()).status_code == 403
    assert client.post(f"/settings/business-hours/{hours.pk}/delete/").status_code == 403
    client.force_login(make_customer_user())
    for url in ("/settings/", f"/settings/business-hours/{hours.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/portal/"
    assert client.post(f"/settings/business-hours/{hours.pk}/delete/").status_code == 302
    assert BusinessHours.objects.filter(pk=hours.pk).exists()


def test_unknown_pages_and_objects_are_404_and_odd_input_never_a_500(client):
    client.force_login(admin())
    assert client.get("/settings/nonsense/").status_code == 404
    assert client.get("/settings/business-hours/999999/").status_code == 404
    assert client.post("/settings/macros/999999/delete/").status_code == 404
    assert client.get("/settings/business-hours/1/delete/").status_code == 405
    response = client.post("/settings/business-hours/new/", schedule_form(name="Nul\x00"))
    assert response.status_code == 400
    response = client.post("/settings/sla-policies/new/", {})
    assert response.status_code == 422 and response.context["form"].errors


def test_the_settings_lists_run_a_fixed_number_of_queries(client, django_assert_num_queries):
    for n in range(3):
        hours = BusinessHours.objects.create(name=f"Hours {n}")
        hours.intervals.create(weekday=0, start=time(9), end=time(17))
    client.force_login(admin())
    with django_assert_num_queries(5):  # session, user, schedules, intervals, holidays
        page = client.get("/settings/business-hours/")
    assert len(page.context["rows"]) == 4  # with the desk's standard schedule
