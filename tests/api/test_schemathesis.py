"""Every operation of the public API, fed data generated from its own OpenAPI schema, with an
agent's and a customer's token: never a server error, and every response conforms to the
schema (status codes declared, content types and bodies of the declared shape)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from caseloop.accounts.services import token_issue
from tests.builders import make_agent, make_case, make_customer_user

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())

# A bounded budget: the suite stays fast, and a regression on any operation still shows.
BUDGET = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _one_connection_for_the_test():
    """The WSGI app would close the database connection after each request, as it should
    in production; here that connection holds the test's transaction (Django's own test
    client keeps it open the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(db):
    agent = make_agent()
    customer = make_customer_user()
    make_case(customer=customer.customer, actor=agent)
    return {
        "agent": token_issue(user=agent, name="schemathesis"),
        "customer": token_issue(user=customer, name="schemathesis"),
    }


@pytest.mark.parametrize("who", ["agent", "customer"])
@schema.parametrize()
@BUDGET
def test_the_api_never_errs_and_keeps_to_its_schema(case, who, tokens):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens[who]}"},
        # A request can fit the schema and still be refused by the desk's own rules (no
        # such category, a case that is closed, NUL characters): a clear 4xx is right
        # there. And pydantic reads 0 as false, as the API always has.
        excluded_checks=[positive_data_acceptance, negative_data_rejection],
    )
