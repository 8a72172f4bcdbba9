"""Settings for the browser tests' server: the project's settings, with mail written to
files the tests read (EMAIL_FILE_PATH from the environment)."""

import os

from caseloop.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["CASELOOP_MAIL_DIR"]
