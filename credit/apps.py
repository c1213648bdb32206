from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("credit")

    def ready(self) -> None:
        # Imported here, not for a cycle: the page and API bindings of a finding's steps
        # (credit.findings.steps, whose system check they satisfy) live beside their views and
        # must be in place before any URL is resolved or any page offers a step; models
        # are not loaded at module level.
        from credit import lists  # noqa: F401  (the list specs, for the export worker)
        from credit.findings import api, views  # noqa: F401
