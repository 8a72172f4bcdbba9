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
