import pytest

from tests.automation.support import sla_effects_run


@pytest.fixture
def settle():
    """Run automation's pending outbox effects (see `support.sla_effects_run`)."""
    return sla_effects_run
