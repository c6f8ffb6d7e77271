from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import receivers, selectors  # noqa: F401  (receivers connect on import)
        from realtime.registry import register_topic

        register_topic("accounts.organization", check=selectors.user_can_follow_organization)
