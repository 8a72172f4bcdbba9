import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caseloop.customers.errors import PurchaseImportError
from caseloop.customers.models import Customer, PurchaseRecord
from caseloop.customers.services import purchases_import_csv
from tests.builders import bearer, make_agent, make_customer

pytestmark = pytest.mark.django_db

GOOD = (
    "email,order_id,product,purchased_at,amount,currency\n"
    "Ann@Example.com,NW-1001,Aurora kettle,2026-03-02,49.00,gbp\n"
    "ann@example.com,NW-1001,Descaler,2026-03-02T10:15:00+00:00,6.50,GBP\n"
    "bob@example.com,NW-1002,Brio espresso machine,2026-04-11,329,EUR\n"
)


def test_a_good_file_imports_every_row_and_resolves_customers():
    ann = make_customer(email="ann@example.com")
    result = purchases_import_csv(data=GOOD.encode())
    assert result == {"created": 3, "updated": 0}
    assert sorted(ann.purchases.values_list("product", flat=True)) == ["Aurora kettle", "Descaler"]
    bob = Customer.objects.get(contact_points__value="bob@example.com")
    record = bob.purchases.get()
    assert (record.order_id, str(record.amount), record.currency) == ("NW-1002", "329.00", "EUR")
    assert purchases_import_csv(data=GOOD) == {"created": 0, "updated": 3}


def test_bad_rows_are_reported_by_line_and_nothing_is_imported():
    data = (
        "email,order_id,product,purchased_at,amount,currency\n"
        "ann@example.com,NW-1,Kettle,2026-03-02,49.00,GBP\n"
        "not-an-email,NW-2,Kettle,2026-03-02,49.00,GBP\n"
        "bob@example.com,NW-3,Kettle,someday,49.00,GBP\n"
        "cat@example.com,NW-4,Kettle,2026-03-02,forty,GBP\n"
        "dan@example.com,NW-5,Kettle,2026-03-02,5,POUNDS\n"
    )
    with pytest.raises(PurchaseImportError) as raised:
        purchases_import_csv(data=data)
    errors = raised.value.errors
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 4", "line 5", "line 6"]
    assert "email" in errors[0] and "purchased_at" in errors[1] and "amount" in errors[2]
    assert PurchaseRecord.objects.count() == 0 and Customer.objects.count() == 0


def test_a_file_without_the_required_columns_is_refused():
    with pytest.raises(PurchaseImportError) as raised:
        purchases_import_csv(data="email,product\nann@example.com,Kettle\n")
    assert "missing columns" in raised.value.errors[0]


def test_import_through_the_api(client):
    agent = make_agent()
    upload = SimpleUploadedFile("purchases.csv", GOOD.encode(), content_type="text/csv")
    response = client.post("/api/v1/purchases/import", {"file": upload}, headers=bearer(agent))
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 3, "updated": 0}
    bad = SimpleUploadedFile(
        "bad.csv", b"email,order_id,product,purchased_at,amount\nx,1,K,2026-01-01,1\n"
    )
    refused = client.post("/api/v1/purchases/import", {"file": bad}, headers=bearer(agent))
    assert refused.status_code == 422
    assert refused.json()["errors"][0].startswith("line 2")


def test_a_purchase_without_a_currency_is_in_the_desks(settings):
    settings.DESK_CURRENCY = "GBP"
    data = (
        "email,order_id,product,purchased_at,amount,currency\n"
        "ann@example.com,NW-7,Kettle,2026-03-02,49.00,\n"
    )
    purchases_import_csv(data=data.encode())
    assert PurchaseRecord.objects.get(order_id="NW-7").currency == "GBP"
    customer = make_customer()
    made = PurchaseRecord.objects.create(
        customer=customer,
        order_id="NW-8",
        product="Descaler",
        purchased_at="2026-03-02T10:00Z",
        amount=6,
    )
    assert made.currency == "GBP"
