"""`/healthz`, `/metrics` and the request id on the shipped server (uvicorn, ASGI), with
JSON logs switched on."""

from __future__ import annotations

import json
import os
import subprocess

import requests

from tests.serving import BIN, serving

from .helpers import samples, value


def test_the_served_desk_answers_healthz_and_counts_its_requests(tmp_path):
    unset = {"DATABASE_URL", "REDIS_URL", "CASELOOP_TESTING", "PROMETHEUS_MULTIPROC_DIR"}
    env = {
        **{name: value for name, value in os.environ.items() if name not in unset},
        "CASELOOP_DATA_DIR": str(tmp_path / "data"),
        "CASELOOP_SECURE_COOKIES": "0",
        "CASELOOP_LOG_FORMAT": "json",
    }
    subprocess.run(
        [str(BIN / "caseloop"), "migrate", "--noinput", "--verbosity", "0"],
        env=env,
        check=True,
        timeout=180,
    )
    log = tmp_path / "serve.log"
    with serving(env=env, log=log) as base_url:
        health = requests.get(f"{base_url}/healthz", timeout=10)
        assert health.status_code == 200
        assert health.json()["status"] == "ok"
        login = requests.get(f"{base_url}/login/", timeout=10)
        assert len(login.headers["X-Request-ID"]) == 32
        missing = requests.get(
            f"{base_url}/no/such/page/", headers={"X-Request-ID": "edge-42"}, timeout=10
        )
        assert missing.status_code == 404
        scrape = requests.get(f"{base_url}/metrics", timeout=10)
        assert scrape.status_code == 200
    found = samples(scrape.text)
    count = "caseloop_http_request_duration_seconds_count"
    # The readiness probe `serving` polls with is a sign-in page request too.
    assert value(found, count, route="web:login", method="GET", status="2xx") >= 2
    assert value(found, count, route="healthz", method="GET", status="2xx") == 1
    assert value(found, "caseloop_metrics_source_up", source="database") == 1
    logged = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    (not_found,) = [line for line in logged if line["logger"] == "django.request"]
    assert not_found["request_id"] == "edge-42"
