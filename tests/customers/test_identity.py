import pytest

from caseloop.customers.errors import InvalidContactPoint
from caseloop.customers.models import ContactPoint, Customer
from caseloop.customers.services import Identity, contact_normalize, customer_find_or_create

pytestmark = pytest.mark.django_db


def test_emails_are_case_folded_so_one_address_is_one_customer():
    first = customer_find_or_create(identity=Identity(email="Ann.Lee@Example.COM", name="Ann"))
    again = customer_find_or_create(identity=Identity(email=" ann.lee@example.com "))
    assert again == first
    assert list(first.contact_points.values_list("kind", "value")) == [
        ("email", "ann.lee@example.com")
    ]


@pytest.mark.parametrize(
    "written",
    ["+1 415 555 0134", "(415) 555-0134", "415.555.0134", "+1-415-555-0134", "4155550134"],
)
def test_phones_are_stored_in_e164_whatever_the_format(written):
    assert contact_normalize(kind="phone", value=written) == "+14155550134"


def test_international_phone_formats_resolve_to_one_customer():
    first = customer_find_or_create(identity=Identity(phone="+44 20 7946 0321"))
    for written in ["+44 (0)20 7946 0321", "+442079460321", "+44 20-7946-0321"]:
        assert customer_find_or_create(identity=Identity(phone=written)) == first
    assert first.contact_points.get().value == "+442079460321"


def test_the_same_person_across_email_phone_chat_and_social_is_one_customer():
    by_email = customer_find_or_create(identity=Identity(email="mei@example.com", name="Mei"))
    by_phone = customer_find_or_create(
        identity=Identity(email="MEI@example.com", phone="(415) 555-0199")
    )
    by_chat = customer_find_or_create(identity=Identity(phone="+14155550199", chat="visitor-9a"))
    by_social = customer_find_or_create(identity=Identity(chat="visitor-9a", social="@Mei_Codes"))
    later = customer_find_or_create(identity=Identity(social="@mei_codes"))
    assert by_email == by_phone == by_chat == by_social == later
    assert Customer.objects.count() == 1
    assert sorted(by_email.contact_points.values_list("kind", "value")) == [
        ("chat", "visitor-9a"),
        ("email", "mei@example.com"),
        ("phone", "+14155550199"),
        ("social", "@mei_codes"),
    ]
    kinds = list(by_email.events.values_list("kind", flat=True))
    assert kinds == ["created", "contact_added", "contact_added", "contact_added"]


def test_different_people_stay_different():
    ann = customer_find_or_create(identity=Identity(email="ann@example.com"))
    bob = customer_find_or_create(identity=Identity(email="bob@example.com"))
    assert ann != bob


def test_a_name_alone_creates_a_customer_without_contact_points():
    customer = customer_find_or_create(identity=Identity(name="Walk-in"))
    assert customer.name == "Walk-in" and not customer.contact_points.exists()


@pytest.mark.parametrize(
    ("identity", "kind"),
    [
        (Identity(email="not-an-email"), "email"),
        (Identity(email="ann@"), "email"),
        (Identity(phone="12"), "phone"),
        (Identity(phone="call me maybe"), "phone"),
        (Identity(), "identity"),
    ],
)
def test_invalid_contact_points_are_refused_and_nothing_is_stored(identity, kind):
    with pytest.raises(InvalidContactPoint) as raised:
        customer_find_or_create(identity=identity)
    assert raised.value.kind == kind
    assert Customer.objects.count() == 0 and ContactPoint.objects.count() == 0
