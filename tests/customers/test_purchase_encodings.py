"""Purchase files come from spreadsheets in whatever encoding they save: a byte order mark
is believed, else UTF-8, else Windows-1252/Latin-1 — never a UnicodeDecodeError 500."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from caseloop.customers.models import Customer, PurchaseRecord
from caseloop.customers.services import purchases_import_csv
from tests.builders import bearer, make_agent

pytestmark = pytest.mark.django_db

LATIN1_FILE = Path(__file__).parent / "fixtures" / "purchases-latin1.csv"
ROWS = (
    "email,name,order_id,product,purchased_at,amount,currency\r\n"
    "jurgen.muller@example.de,Jürgen Müller,DE-7001,Wasserkocher Größe L,2026-02-14,39.90,EUR\r\n"
)


def test_a_latin1_file_imports_through_the_api_with_its_accents_intact(client):
    raw = LATIN1_FILE.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # the fixture really is Latin-1
    upload = SimpleUploadedFile("purchases.csv", raw, content_type="text/csv")
    response = client.post(
        "/api/v1/purchases/import", {"file": upload}, headers=bearer(make_agent())
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "updated": 0}
    muller = Customer.objects.get(contact_points__value="jurgen.muller@example.de")
    assert muller.name == "Jürgen Müller"
    assert muller.purchases.get().product == "Wasserkocher Größe L"
    assert PurchaseRecord.objects.get(order_id="FR-1200").product == "Théière en fonte"


@pytest.mark.parametrize(
    "data",
    [
        ROWS.encode("utf-8"),
        b"\xef\xbb\xbf" + ROWS.encode("utf-8"),
        ROWS.encode("utf-16"),  # with its BOM, as Excel's "Unicode text" saves
        ROWS.encode("utf-16-be").join([b"\xfe\xff", b""]),
        ROWS.replace("Größe L", "Größe L – 1.5 l").encode("cp1252"),
    ],
    ids=["utf-8", "utf-8 with BOM", "utf-16 LE with BOM", "utf-16 BE with BOM", "cp1252"],
)
def test_every_common_encoding_imports_the_same_names(data):
    assert purchases_import_csv(data=data) == {"created": 1, "updated": 0}
    muller = Customer.objects.get()
    assert muller.name == "Jürgen Müller"
    assert muller.purchases.get().product.startswith("Wasserkocher Größe L")


def test_nul_characters_in_a_file_are_dropped_not_stored():
    data = ROWS.replace("Wasserkocher", "Wasser\x00kocher").encode("utf-8")
    assert purchases_import_csv(data=data) == {"created": 1, "updated": 0}
    assert PurchaseRecord.objects.get().product == "Wasserkocher Größe L"
