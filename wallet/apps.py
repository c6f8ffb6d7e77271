from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WalletConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "wallet"
    verbose_name = _("Wallet")

    def ready(self) -> None:
        from accounts.privacy import register_export_section
        from wallet.privacy import wallet_data_export

        register_export_section("wallet", wallet_data_export)
