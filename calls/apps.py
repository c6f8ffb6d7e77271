from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "calls"
    verbose_name = _("Calls")

    def ready(self) -> None:
        # calls comes before chat in INSTALLED_APPS, so this connection listener runs before
        # chat's: on a disconnect chat's PresenceConnection row of the closing socket is still
        # there (calls.presence counts the others by excluding its channel name).
        from calls import presence, socket, topics

        presence.register()
        topics.register()
        socket.register()
