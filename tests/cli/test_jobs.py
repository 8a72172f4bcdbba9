"""The consumer that `caseloop serve` and `caseloop worker` run knows every app's jobs."""

import json
import os
import subprocess
import sys

# A fresh process: in this one the tests have long since imported every tasks module.
SCRIPT = """
import json, django
django.setup()
from huey.contrib.djhuey import HUEY
from caseloop.cli.jobs import consumer_create
consumer_create(workers=1)
print(json.dumps(sorted(HUEY._registry._registry)))
"""


def test_the_consumer_knows_the_jobs_of_every_app(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "caseloop.settings",
        "CASELOOP_DATA_DIR": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    known = set(json.loads(out.stdout.strip().splitlines()[-1]))
    for job in (
        "caseloop.cases.tasks.outbox_dispatch",
        "caseloop.cases.tasks.outbox_sweep",
        "caseloop.channels.email.tasks.mailboxes_poll",
        "caseloop.cases.tasks.loop_owner_reminders",
        "caseloop.knowledge.tasks.messages_backfill_nightly",
    ):
        assert job in known, f"{job} is not registered"
