from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = _("verification")

    def ready(self) -> None:
        # Imported here, not for a cycle: verification binds the step it performs on the
        # application's path (verification.steps) before any URL is resolved.
        from verification import steps  # noqa: F401
