"""The triage panel on the case page."""

import pytest

from caseloop.triage.models import KeywordRule
from tests.builders import make_agent, make_case

from .helpers import categories

pytestmark = pytest.mark.django_db


def test_the_case_page_shows_category_priority_factors_mood_and_similar_cases(
    client, django_capture_on_commit_callbacks
):
    cats = categories()
    KeywordRule.objects.create(category=cats["billing"], keywords="invoice")
    older = make_case(subject="Invoice wrong", text="The invoice total is wrong")
    with django_capture_on_commit_callbacks(execute=True):
        case = make_case(
            subject="Invoice",
            text="Third time I'm writing: the invoice is wrong and I need it fixed urgently!!!",
        )
    client.force_login(make_agent())
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="panel-triage"' in body
    assert "Billing" in body
    assert "words of urgency" in body and "+2" in body
    assert "frustrated" in body and "complaint" in body
    assert older.reference in body


def test_an_untriaged_case_says_so(client):
    client.force_login(make_agent())
    body = client.get(f"/cases/{make_case().pk}/").content.decode()
    assert "Not triaged yet." in body
