from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "caseloop.accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.lib.ratelimit import rate_counter_register

        from .ratecounters import DatabaseRateCounter

        rate_counter_register(DatabaseRateCounter())
