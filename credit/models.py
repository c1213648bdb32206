"""The credit app's models live in its two feature packages: findings (behaviours,
findings, sanctions, objections, repair, the outbox) and trust (trust records, rewards,
yearly results). Importing them here is what registers them with Django."""

from credit.findings.models import *  # noqa: F403
from credit.trust.models import *  # noqa: F403
