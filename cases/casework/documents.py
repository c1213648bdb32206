"""The household file (一户一档): uploads checked by their bytes, stored outside the web
root, and read back only through the access gate."""

from __future__ import annotations

import hashlib
import io
import zipfile

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from aid_portal import access, permissions, uploads
from aid_portal.audit import audit_record
from aid_portal.errors import DomainError
from aid_portal.models import User
from cases.models import Application, Document, Household

ALLOWED_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_BYTES = getattr(settings, "DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)
UPLOADERS = permissions.READ_CASES - {"county_auditor"}


def document_upload(
    *,
    actor: User,
    household: Household,
    kind: str,
    upload: UploadedFile,
    application: Application | None = None,
    roles: frozenset[str] = UPLOADERS,
) -> Document:
    """Store one file. Its type is read from its first bytes; its name is only kept.
    ``roles``: who may add it (a county auditor's spot-check evidence widens them)."""
    access.require_role(actor, roles, household.village)
    if kind not in Document.Kind.values:
        raise DomainError(_("Choose the kind of document."), field="kind")
    if upload.size > MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)s MB.") % {"mb": f"{MAX_BYTES / 2**20:g}"},
            field="file",
        )
    head = upload.read(262)
    upload.seek(0)
    guessed = filetype.guess_mime(head)
    if guessed not in ALLOWED_TYPES:
        raise DomainError(
            _(
                "Only PDF, JPEG and PNG files are accepted; this file is not one, "
                "whatever its name says."
            ),
            field="file",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    original_name = uploads.display_name(upload.name)
    upload.name = f"{digest.hexdigest()[:16]}.{ALLOWED_TYPES[guessed]}"
    with transaction.atomic():
        document = Document.objects.create(
            household=household,
            application=application,
            kind=kind,
            file=upload,
            original_name=original_name,
            content_type=guessed,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
        )
        audit_record(
            actor=actor,
            action="document.upload",
            obj=document,
            region=household.village,
            new={"kind": kind, "size": upload.size},
        )
    return document


def household_file_zip(*, actor: User, household: Household) -> bytes:
    """The whole household file as one zip, each document named by kind and date."""
    documents = list(household.documents.order_by("kind", "uploaded_at"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, document in enumerate(documents, start=1):
            extension = ALLOWED_TYPES.get(document.content_type, "bin")
            name = (
                f"{number:02d}_{document.get_kind_display()}_"
                f"{document.uploaded_at:%Y%m%d}.{extension}"
            )
            with document.file.open("rb") as handle:
                archive.writestr(name, handle.read())
    audit_record_read(actor=actor, household=household, what="household_file.zip")
    return buffer.getvalue()


def audit_record_read(*, actor: User, household: Household, what: str) -> None:
    """Downloads of scans are reads of personal data: recorded."""
    with transaction.atomic():
        audit_record(actor=actor, action=what, obj=household, region=household.village)
