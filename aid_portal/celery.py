"""The Celery application. Configuration lives in settings (CELERY_* names)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aid_portal.settings")

app = Celery("aid_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
