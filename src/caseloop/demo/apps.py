from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`caseloop demo`: seeds a demo desk through the services of every app. It sits above
    the apps it seeds, so none of them needs to know about it."""

    name = "caseloop.demo"
    label = "demo"
    verbose_name = "Demo desk"
