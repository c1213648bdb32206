from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidPortalConfig(AppConfig):
    # The app's own config: with a second AppConfig in this module (AxesConfig below),
    # Django would otherwise fall back to a plain one and never call ready().
    default = True
    name = "aid_portal"
    verbose_name = _("Portal core")

    def ready(self):
        # Imported here, not for a cycle: services and schedules use models, which are not
        # loaded when this module is imported. Permissions are created after each app's
        # migrations; a release that gives data-feed admins a new permission reaches their
        # group here, once all exist.
        from django.db.models.signals import post_migrate

        # The core's list specs register themselves for the export worker (aid_portal.listing).
        from aid_portal import lists  # noqa: F401
        from aid_portal.schedules import schedules_sync_after_migrate
        from aid_portal.services import feed_admin_group_sync

        post_migrate.connect(feed_admin_group_sync, dispatch_uid="feed_admin_group_sync")
        # Every migrate (each release runs one) and every test flush brings beat's tables
        # to the declared schedules; a data migration would run once and need a new one
        # for every schedule added. Sent once, as the core app, after all migrations ran.
        post_migrate.connect(
            schedules_sync_after_migrate, sender=self, dispatch_uid="schedules_sync"
        )


class AxesConfig(AxesAppConfig):
    """django-axes under a Chinese name on the staff pages (axes itself ships no Chinese
    and names its app "Axes"); everything else is axes' own."""

    default = False
    verbose_name = _("Login lockouts")
