from django.apps import AppConfig


class CliConfig(AppConfig):
    """The commands that run the desk (`caseloop serve`, `caseloop worker`)."""

    name = "caseloop.cli"
    label = "cli"
    verbose_name = "Command line"
