from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VerificationConfig(AppConfig):
    name = "verification"
    verbose_name = _("verification")

    def ready(self) -> None:
        # Imported here, not for a cycle: verification binds the step it performs on the
        # application's path (verification.steps), and the pages and the API bind the
        # spot-check's steps (verification.spotcheck_steps), before any URL is resolved;
        # models are not loaded at module level.
        from verification import api_spotcheck, steps, views_spotcheck  # noqa: F401
