"""Staff pages for the catalogue of untrustworthy behaviours a county keeps."""

from django.contrib import admin

from aid_portal.admin import AuditedAdmin
from credit.findings.models import Behaviour


@admin.register(Behaviour)
class BehaviourAdmin(AuditedAdmin):
    """Add a behaviour, rename one, or retire it (untick "in use"); findings keep theirs."""

    list_display = ["code", "name", "level", "source", "active"]
    list_filter = ["level", "source", "active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request, obj=None):
        # A behaviour already used keeps its code and level: its findings were judged by them.
        if obj is not None and obj.findings.exists():
            return ["code", "level", "source"]
        return []

    def has_delete_permission(self, request, obj=None):
        return False
