from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AidPortalConfig(AppConfig):
    name = "aid_portal"
    verbose_name = _("Portal core")
