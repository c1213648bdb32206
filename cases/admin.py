"""Staff pages for the catalogues a county keeps: proof items (告知承诺 catalogue)."""

from django.contrib import admin

from aid_portal.admin import AuditedAdmin
from cases.models import ProofItem


@admin.register(ProofItem)
class ProofItemAdmin(AuditedAdmin):
    list_display = ["code", "name", "committable", "active"]
    list_filter = ["committable", "active"]
    search_fields = ["code", "name"]
