"""Strings of Django's admin, django-axes and django-celery-beat that an office user reads
on the staff pages (人员与设置) and that those packages ship no Chinese for: Django 5.2's
zh_Hans lacks the newer admin strings, axes has no Chinese at all, and celery-beat's
Chinese leaves a few strings untranslated or fuzzy (which gettext ignores).

Listing the msgids here puts them in the portal's own catalogue (LOCALE_PATHS comes
before the packages' catalogues), where po.py's dictionary translates them. Nothing
imports this module; makemessages reads it.
"""

from django.utils.translation import gettext_noop

STRINGS = [
    # django.contrib.admin (admin/app_list.html)
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # django-axes: models, admin and messages
    gettext_noop("Access Attempt"),
    gettext_noop("Access lock out"),
    gettext_noop(
        "Account locked: too many login attempts. Contact an admin to unlock your account."
    ),
    gettext_noop("Account locked: too many login attempts. Please try again later."),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Attempt Time"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("Failed Logins"),
    gettext_noop("Form Data"),
    gettext_noop("GET Data"),
    gettext_noop("HTTP Accept"),
    gettext_noop("IP Address"),
    gettext_noop("Locked Out"),
    gettext_noop("Logout Time"),
    gettext_noop("Meta Data"),
    gettext_noop("Not set"),
    gettext_noop("POST Data"),
    gettext_noop("Path"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("Username"),
    gettext_noop("access attempt"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    gettext_noop("access attempts"),
    gettext_noop("access failure"),
    gettext_noop("access failures"),
    gettext_noop("access log"),
    gettext_noop("access logs"),
    # django-celery-beat: untranslated or fuzzy in its zh_Hans
    gettext_noop("Schedule"),
    gettext_noop("Periodic Tasks Using This Schedule"),
    gettext_noop("Arguments"),
    gettext_noop("Execution Options"),
    gettext_noop('task "{not_found_task_name}" not found'),
    gettext_noop('Cron Months (1-12) Of The Year to Run. Use "*" for "all". (Example: "1,12")'),
    gettext_noop(
        'Cron Days Of The Week to Run. Use "*" for "all", Sunday is 0 or 7, Monday is 1. '
        '(Example: "0,5")'
    ),
]
