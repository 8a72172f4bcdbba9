import pytest


@pytest.fixture(autouse=True)
def _triage_data_dir(settings, tmp_path):
    """Models are written under the data directory: give every test its own."""
    from caseloop.triage import learning, selectors

    settings.DATA_DIR = tmp_path
    learning._cache.clear()
    selectors._index.key = None
    yield
    learning._cache.clear()
    selectors._index.key = None


@pytest.fixture
def desk():
    """Four categories with keyword rules for two; billing routes to team Money's agent."""
    from caseloop.triage.models import KeywordRule, RoutingRule, TeamRouting
    from tests.builders import make_agent, make_team

    from .helpers import categories

    cats = categories()
    KeywordRule.objects.create(category=cats["billing"], keywords="invoice\ncharged\nrefund")
    KeywordRule.objects.create(category=cats["delivery"], keywords="parcel\ncourier")
    agent = make_agent()
    agent.skills.add(cats["billing"])
    team = make_team(name="Money", members=[agent])
    RoutingRule.objects.create(category=cats["billing"], team=team)
    TeamRouting.objects.create(team=team)
    return {"cats": cats, "agent": agent, "team": team}
