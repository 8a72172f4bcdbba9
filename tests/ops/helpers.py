"""Reading what `/metrics` says, and an address nothing listens on."""

from __future__ import annotations

import socket

from prometheus_client.parser import text_string_to_metric_families

Sample = tuple[str, tuple[tuple[str, str], ...]]


def closed_port() -> int:
    """A loopback port that was just free: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def samples(text: str) -> dict[Sample, float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    found: dict[Sample, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def scraped(client) -> dict[Sample, float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content[:300]
    return samples(response.content.decode())


def value(found: dict[Sample, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)
