"""Every operation of the public API, fed data generated from its own OpenAPI schema, with an
agent's and a customer's token: never a server error, and every response conforms to the
schema (status codes declared, content types and bodies of the declared shape)."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
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
