from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("cases")

    def ready(self) -> None:
        # Imported here, not for a cycle: the page and API bindings of the declared steps
        # (cases.steps) live beside their views and must be in place before any URL is
        # resolved or any page offers a step; models are not loaded at module level.
        from cases import api, api_review, views_casework, views_review  # noqa: F401
