"""Printed documents: one A4 layout (templates/print/base.html), one way to answer a
print page as HTML or as PDF, and one audit row for every printout.

At the core because every app prints (cases: notices, the home-visit record, the
application form; verification: its report and letter; credit: its notice), and the
audit row, the identity-number rule and the PDF machinery must read the same for all.

The PDF comes from WeasyPrint (docs/printing.md), which needs the Pango library of the
operating system. Where Pango (or WeasyPrint) is missing, the PDF link answers a clear
page saying so and the HTML print page still works: a browser prints it, or saves it
as PDF, just as well.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aid_portal import access, permissions
from aid_portal.audit import audit_printout
from aid_portal.models import Region
from aid_portal.unmask import UnmaskLimitReached, unmask_record

PDF = "pdf"


class PdfUnavailable(RuntimeError):
    """WeasyPrint, or the Pango library it draws text with, is not on this machine."""


def pdf_from_html(html: str, *, base_url: str) -> bytes:
    """The HTML of a print page, laid out on A4 by WeasyPrint."""
    # Imported here, not for a cycle: a machine without Pango (WeasyPrint raises OSError
    # while importing when it cannot load the library) still starts and serves every
    # HTML page; only the PDF answers that it cannot be made.
    try:
        import weasyprint  # imported here, not for a cycle: Pango may be missing (above)
    except (ImportError, OSError) as exc:
        raise PdfUnavailable(str(exc)) from exc
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf()


def css_string(value: str) -> str:
    """``value`` as the inside of a double-quoted CSS string (the running header)."""
    escaped = []
    for char in str(value):
        if char in '"\\<>' or ord(char) < 0x20:
            escaped.append(f"\\{ord(char):x} ")
        else:
            escaped.append(char)
    return "".join(escaped)


class FullIdentityForm(forms.Form):
    """Why the full identity number must be on this printout (kept in the audit log)."""

    identity = forms.CharField(widget=forms.HiddenInput, initial="full")
    purpose = forms.CharField(
        label=gettext_lazy("Why the full identity number must be printed"),
        max_length=200,
        min_length=4,
        help_text=gettext_lazy("Recorded in the audit log with your name."),
    )


@dataclasses.dataclass
class IdentityChoice:
    """Whether a printout shows identity numbers in full, and the offer to do so."""

    full: bool = False
    form: FullIdentityForm | None = None  # offered to the roles allowed to unmask
    query: dict = dataclasses.field(default_factory=dict)  # kept on the PDF link
    invalid: bool = False


def identity_choice(
    request: HttpRequest, *, obj: models.Model, region: Region, field: str
) -> IdentityChoice:
    """Full identity numbers on the family's own document, only for a role that may
    print them (permissions.PRINT_FULL_IDENTITY_NUMBERS) over ``region``, with a stated
    purpose, and each time audited; otherwise masked."""
    allowed = access.has_role(request.user, permissions.PRINT_FULL_IDENTITY_NUMBERS, region)
    asked = request.GET.get("identity") == "full"
    if asked and not allowed:
        raise PermissionDenied(_("Your role does not allow printing full identity numbers."))
    if not allowed:
        return IdentityChoice()
    if not asked:
        return IdentityChoice(form=FullIdentityForm())
    form = FullIdentityForm(request.GET)
    if not form.is_valid():
        return IdentityChoice(form=form, invalid=True)
    purpose = form.cleaned_data["purpose"]
    try:
        unmask_record(
            actor=request.user, obj=obj, field=field, region=region, purpose=f"printout: {purpose}"
        )
    except UnmaskLimitReached as exc:
        form.add_error("purpose", exc.message)
        return IdentityChoice(form=form, invalid=True)
    return IdentityChoice(full=True, form=None, query={"identity": "full", "purpose": purpose})


def print_response(
    request: HttpRequest,
    template_name: str,
    context: dict,
    *,
    document: str,
    obj: models.Model,
    region: Region,
    township: Region | None,
    filename: str,
    identity: IdentityChoice | None = None,
) -> HttpResponse:
    """The print page of ``document`` about ``obj``: HTML, or PDF with ``?format=pdf``.

    Each answer that carries the document is audited: who printed what, in which form.
    The caller has already read ``obj`` through the access gate.
    """
    identity = identity or IdentityChoice()
    as_pdf = request.GET.get("format") == PDF
    # The issuing office as the family knows it: 西吉县吉强镇.
    county = township.county() if township is not None else None
    issuer = "".join(r.name for r in (county, township) if r is not None and r.pk)
    context = {
        **context,
        "identity": identity,
        "print_issuer": issuer,
        "print_header": css_string(issuer),
        "print_document": document,
        "print_for_pdf": as_pdf,
        "pdf_url": f"{request.path}?{urlencode({**identity.query, 'format': PDF})}",
    }
    html = render_to_string(template_name, context, request=request)
    status = 400 if identity.invalid else 200
    if not as_pdf or identity.invalid:
        audit_printout(actor=request.user, obj=obj, document=document, region=region, form="html")
        return HttpResponse(html, status=status)
    try:
        pdf = pdf_from_html(html, base_url=request.build_absolute_uri("/"))
    except PdfUnavailable:
        page = render_to_string(
            "print/pdf_unavailable.html", {"html_url": request.path}, request=request
        )
        return HttpResponse(page, status=503)
    audit_printout(actor=request.user, obj=obj, document=document, region=region, form=PDF)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
    return response
