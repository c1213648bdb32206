from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = _("verification")

    def ready(self) -> None:
        # Imported here, not for a cycle: verification binds the step it performs on the
        # application's path (verification.requests.steps), and the pages and the API bind the
        # spot-check's steps (verification.spotcheck.steps), before any URL is resolved;
        # models are not loaded at module level.
        from verification import lists  # noqa: F401  (the list specs, for the export worker)
        from verification.requests import steps  # noqa: F401
        from verification.spotcheck import api, views  # noqa: F401
