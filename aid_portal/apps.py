from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidPortalConfig(AppConfig):
    name = "aid_portal"
    verbose_name = _("Portal core")

    def ready(self):
        # Permissions are created after each app's migrations; a release that gives
        # data-feed admins a new permission reaches their group here, once all exist.
        from django.db.models.signals import post_migrate

        from aid_portal.services import feed_admin_group_sync

        post_migrate.connect(feed_admin_group_sync, dispatch_uid="feed_admin_group_sync")
