"""Job signals for channels."""

from __future__ import annotations

import logging

from huey import signals
from huey.contrib.djhuey import HUEY

logger = logging.getLogger(__name__)


@HUEY.signal(signals.SIGNAL_ERROR)
def _log_task_error(signal, task, exc=None) -> None:
    logger.warning("job %s failed: %s", task.name, exc)
