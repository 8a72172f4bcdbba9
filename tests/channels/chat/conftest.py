import pytest
from asgiref.sync import sync_to_async
from django.db import connections


@pytest.fixture(autouse=True)
async def _close_socket_thread_connections():
    """Consumers reach the database from asgiref's shared worker thread, whose persistent
    connections would otherwise outlive the test database."""
    yield
    await sync_to_async(connections.close_all, thread_sensitive=True)()
