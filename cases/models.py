"""The cases app's models: the records every feature shares (cases.records) and each
feature's own (intake, casework, reviews, payments, publicity). Importing them here is
what registers them with Django; they keep the app label ``cases`` and their tables."""

from cases.casework.models import *  # noqa: F403
from cases.intake.models import *  # noqa: F403
from cases.payments.models import *  # noqa: F403
from cases.publicity.models import *  # noqa: F403
from cases.records import *  # noqa: F403
from cases.reviews.models import *  # noqa: F403
