"""A savepoint-free transaction: nested blocks cost no statements, and a failure caught
inside one still undoes the whole transaction."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from caseloop.cases.models import Category
from caseloop.lib.transactions import PartlyFailed, atomic_without_savepoints

pytestmark = pytest.mark.django_db(transaction=True)


def test_nested_blocks_open_no_savepoints_and_savepoints_come_back_after():
    with (
        CaptureQueriesContext(connection) as inside,
        atomic_without_savepoints(),
        transaction.atomic(),
        transaction.atomic(),
    ):
        Category.objects.create(name="Billing", slug="billing")
    assert not [q for q in inside.captured_queries if "SAVEPOINT" in q["sql"].upper()]
    assert Category.objects.filter(slug="billing").exists()
    with CaptureQueriesContext(connection) as after, transaction.atomic(), transaction.atomic():
        Category.objects.create(name="Returns", slug="returns")
    assert [q for q in after.captured_queries if q["sql"].upper().startswith("SAVEPOINT")]


def test_a_failure_caught_in_a_nested_block_rolls_back_everything():
    with pytest.raises(PartlyFailed), atomic_without_savepoints():
        Category.objects.create(name="Billing", slug="billing")
        try:
            with transaction.atomic():
                Category.objects.create(name="Billing again", slug="billing")
        except IntegrityError:
            pass  # caught, as a get-or-create that lost a race does
    assert not Category.objects.exists()
    # The connection is usable again, with savepoints.
    with transaction.atomic(), transaction.atomic():
        Category.objects.create(name="Delivery", slug="delivery")
    assert list(Category.objects.values_list("slug", flat=True)) == ["delivery"]
