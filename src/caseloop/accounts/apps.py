from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "caseloop.accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from caseloop.lib.ratelimit import rate_counter_register

        from .ratecounters import DatabaseRateCounter

        rate_counter_register(DatabaseRateCounter())
        # A mistake in the single sign-on settings stops the desk at start-up.
        from .sso import sso_config

        sso_config()
