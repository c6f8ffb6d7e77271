from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QueueingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "queueing"
    verbose_name = _("Queues")

    def ready(self) -> None:
        from queueing import inbox_topics, presence, receivers, widget_socket  # noqa: F401

        inbox_topics.register()
        presence.register()
        widget_socket.register()
