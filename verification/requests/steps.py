"""The steps verification performs on the workflows below it.

The application's path (cases.casework.steps.APPLICATION) declares "verification_request"; the
case moves under verification and its request opens in one transaction, which only
verification can do (it sits above cases). So verification binds that step's page and
API input here, and the case page and the API route it as any other step. Imported by
VerificationConfig.ready, before any URL is resolved.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from cases.casework import serializers as case_serializers
from cases.casework.forms import EmptyForm
from cases.casework.steps import APPLICATION
from cases.reviews.steps import REVIEW
from verification.requests import services


def _request_from_page(request, app, form) -> str:
    services.verification_request(actor=request.user, application_id=app.pk)
    return _("Verification requested.")


APPLICATION.bind_page("verification_request", form=EmptyForm, run=_request_from_page)
APPLICATION.bind_api(
    "verification_request",
    serializer=case_serializers.EmptySerializer,
    act=lambda *, actor, obj, data: services.verification_request(
        actor=actor, application_id=obj.pk
    ),
    description="Ask for economic-status verification (every person must have authorised it).",
)


# A periodic review's verification step: the household is verified again and the report's
# outcome comes back to the review.
def _review_request_from_page(request, review, form) -> str:
    services.review_verification_request(actor=request.user, review_id=review.pk)
    return _("Verification requested; the report's outcome will come to this review.")


REVIEW.bind_page(
    "verification_request",
    form=EmptyForm,
    run=_review_request_from_page,
    when=lambda review: review.verification_id is None,
)
REVIEW.bind_api(
    "verification_request",
    serializer=case_serializers.EmptySerializer,
    act=lambda *, actor, obj, data: services.review_verification_request(
        actor=actor, review_id=obj.pk
    ),
    description="Ask the verification centre again; the report's outcome comes to the review.",
)
