"""The verification app's models live in its feature packages: feeds (departments, data
items, feeds, snapshots and their records), requests (verification requests, department
queries, answers), batch (runs and findings) and spotcheck (campaigns, sampled cases,
findings). Importing them here is what registers them with Django."""

from verification.batch.models import *  # noqa: F403
from verification.feeds.models import *  # noqa: F403
from verification.requests.models import *  # noqa: F403
from verification.spotcheck.models import *  # noqa: F403
