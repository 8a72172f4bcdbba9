import uuid

import pytest

from caseloop.knowledge.models import Audience, State
from caseloop.knowledge.services import article_create, article_transition
from tests.builders import make_agent


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate-limit counters in a cache of this test's own, never the shared Redis."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"kb-tests-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def agent(db):
    return make_agent()


@pytest.fixture
def publish(agent):
    """Create an article and take it through review to published."""

    def _publish(*, title, body, audience=Audience.PUBLIC, **fields):
        article = article_create(title=title, body=body, actor=agent, audience=audience, **fields)
        article = article_transition(article=article, to=State.REVIEW, actor=agent)
        return article_transition(article=article, to=State.PUBLISHED, actor=agent)

    return _publish
