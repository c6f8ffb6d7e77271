from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChatConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "chat"
    verbose_name = _("Chat")

    def ready(self) -> None:
        from chat import receivers, socket, topics  # noqa: F401  (receivers connect on import)

        topics.register()
        socket.register()

        from accounts.privacy import register_export_section
        from chat.privacy import chat_data_export

        register_export_section("chat", chat_data_export)
