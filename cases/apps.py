from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("cases")

    def ready(self) -> None:
        # Imported here, not for a cycle: the page and API bindings of the declared steps
        # (cases.casework.steps, cases.reviews.steps, cases.payments.steps) live beside their
        # views and must be in place before any URL is resolved or any page offers a step;
        # models are not loaded at module level.
        from cases.casework import api, views  # noqa: F401
        from cases.payments import api as payments_api  # noqa: F401
        from cases.payments import views as payments_views  # noqa: F401
        from cases.reviews import api as reviews_api  # noqa: F401
        from cases.reviews import views as reviews_views  # noqa: F401
