"""The intake pages: a family's application filed in six short steps.

1 start (household, applicant, draft) · 2 members · 3 income, assets and rigid
expenditures · 4 commitments and authorisations · 5 the household file (一户一档) ·
6 submit.

Every page reads the application through the access gate (404 outside the
jurisdiction) and changes it only through cases.intake.services, which check the role (403)
and the state (a DomainError shown on the form). The rows of steps 2 to 5 are htmx
*sections*: a post answers with its section re-rendered, with the form's errors or
emptied after success. Without JavaScript the same forms post, and redirect back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aid_portal import access, permissions
from aid_portal.errors import DomainError
from aid_portal.forms import add_domain_error
from aid_portal.models import Role, User
from cases import eligibility, selectors
from cases.casework import documents
from cases.intake import selectors as selectors_intake
from cases.intake import services
from cases.intake.forms import (
    AssetForm,
    AuthorisationForm,
    CommitmentForm,
    DocumentForm,
    ExpenditureForm,
    HouseholdForm,
    IncomeForm,
    MemberEditForm,
    MemberForm,
    NearRelativeForm,
    ProofForm,
    StartForm,
)
from cases.models import Application, Asset, Income, Member, RigidExpenditure

STEPS = [
    ("intake-start", gettext_lazy("Start")),
    ("intake-members", gettext_lazy("Members")),
    ("intake-declaration", gettext_lazy("Income, assets, expenditures")),
    ("intake-commitments", gettext_lazy("Commitments and authorisations")),
    ("intake-documents", gettext_lazy("Household file")),
    ("intake-submit", gettext_lazy("Submit")),
]


# --- sections: one form, one service call, one partial template each -------------------


def _save_member(user: User, app: Application, data: dict) -> None:
    services.member_add(actor=user, household=app.household, **data)


def _save_income(user: User, app: Application, data: dict) -> None:
    services.income_add(actor=user, **data)


def _save_asset(user: User, app: Application, data: dict) -> None:
    services.asset_add(actor=user, household=app.household, **data)


def _save_expenditure(user: User, app: Application, data: dict) -> None:
    services.expenditure_add(actor=user, household=app.household, **data)


def _save_proof(user: User, app: Application, data: dict) -> None:
    services.proof_record(actor=user, application=app, **data)


def _save_commitment(user: User, app: Application, data: dict) -> None:
    services.declaration_commit(actor=user, application=app, **data)


def _save_authorisation(user: User, app: Application, data: dict) -> None:
    services.authorisation_record(
        actor=user,
        member=data["member"],
        signed_on=data["signed_on"],
        upload=data["scan"],
        application=app,
    )


def _save_near_relative(user: User, app: Application, data: dict) -> None:
    services.near_relative_file(actor=user, application=app, **data)


def _save_document(user: User, app: Application, data: dict) -> None:
    documents.document_upload(
        actor=user,
        household=app.household,
        application=app,
        kind=data["kind"],
        upload=data["file"],
    )


@dataclass(frozen=True)
class Section:
    name: str  # element id "section-<name>", template "_<name>.html", form prefix
    page: str  # URL name of the step page that holds it
    form_class: type[HouseholdForm]
    save: Callable[[User, Application, dict], None]
    done: str
    template_dir: str = "cases/intake"

    @property
    def template(self) -> str:
        return f"{self.template_dir}/_{self.name}.html"


SECTIONS = {
    section.name: section
    for section in [
        Section(
            "members", "intake-members", MemberForm, _save_member, gettext_lazy("Member added.")
        ),
        Section(
            "incomes", "intake-declaration", IncomeForm, _save_income, gettext_lazy("Income added.")
        ),
        Section(
            "assets", "intake-declaration", AssetForm, _save_asset, gettext_lazy("Asset added.")
        ),
        Section(
            "expenditures",
            "intake-declaration",
            ExpenditureForm,
            _save_expenditure,
            gettext_lazy("Expenditure added."),
        ),
        Section(
            "proofs", "intake-commitments", ProofForm, _save_proof, gettext_lazy("Proof recorded.")
        ),
        Section(
            "commitment",
            "intake-commitments",
            CommitmentForm,
            _save_commitment,
            gettext_lazy("Declaration commitment recorded."),
        ),
        Section(
            "authorisations",
            "intake-commitments",
            AuthorisationForm,
            _save_authorisation,
            gettext_lazy("Authorisation recorded."),
        ),
        Section(
            "near_relatives",
            "intake-commitments",
            NearRelativeForm,
            _save_near_relative,
            gettext_lazy("Near-relative filing recorded."),
        ),
        Section(
            "documents",
            "intake-documents",
            DocumentForm,
            _save_document,
            gettext_lazy("Document added to the household file."),
            template_dir="cases/documents",
        ),
    ]
}

PAGES = {
    "intake-members": ("cases/intake/members.html", ["members"]),
    "intake-declaration": (
        "cases/intake/declaration.html",
        ["incomes", "assets", "expenditures"],
    ),
    "intake-commitments": (
        "cases/intake/commitments.html",
        ["proofs", "commitment", "authorisations", "near_relatives"],
    ),
    "intake-documents": ("cases/documents/household_file.html", ["documents"]),
}

# Declaration rows that can be removed, by the name used in their URL.
REMOVABLE = {"income": "incomes", "asset": "assets", "expenditure": "expenditures"}


# --- what the pages show ---------------------------------------------------------------


def _application(request, application_id: int) -> Application:
    return selectors.application_get_for_user(user=request.user, application_id=application_id)


def _can_edit(user: User, app: Application) -> bool:
    return app.state in services.EDITABLE and access.has_role(
        user, permissions.FILE_APPLICATIONS, app.village
    )


def _form_shown(user: User, app: Application, name: str) -> bool:
    if name == "documents":  # the household file grows all through the case
        return access.has_role(user, documents.UPLOADERS, app.village)
    return _can_edit(user, app)


def _readonly_reason(user: User, app: Application) -> str:
    if app.state not in services.EDITABLE:
        return _("This application is %(state)s: its intake can no longer be changed.") % {
            "state": app.get_state_display()
        }
    return _("Your role lets you read this application, not change it.")


def _steps(app: Application | None, current: str) -> dict:
    names = [name for name, _label in STEPS]
    index = names.index(current)
    urls = [
        reverse(f"cases:{name}", args=[app.pk] if name != "intake-start" else [])
        if app is not None and name != "intake-start"
        else None
        for name in names
    ]
    return {
        "steps": [
            {"number": n, "label": label, "url": url, "current": name == current}
            for n, ((name, label), url) in enumerate(zip(STEPS, urls, strict=True), start=1)
        ],
        "prev_url": urls[index - 1] if index > 0 else None,
        "next_url": urls[index + 1] if index + 1 < len(urls) else None,
    }


def _members_by_id(app: Application) -> dict[int, Member]:
    return {member.pk: member for member in app.household.members.all()}


def _section_data(request, app: Application, name: str) -> dict:
    """What one section's template lists, from the prefetched application."""
    members = list(app.household.members.all())
    by_id = _members_by_id(app)
    if name == "members":
        return {"members": members}
    if name == "incomes":
        return {"income_rows": [(m, income) for m in members for income in m.incomes.all()]}
    if name == "assets":
        return {"asset_rows": [(a, by_id.get(a.member_id)) for a in app.household.assets.all()]}
    if name == "expenditures":
        return {
            "expenditure_rows": [
                (e, by_id.get(e.member_id)) for e in app.household.expenditures.all()
            ]
        }
    if name == "proofs":
        return {"proof_rows": selectors_intake.proof_catalogue_for(app)}
    if name == "authorisations":
        return {
            "authorisation_rows": [(m, getattr(m, "authorisation", None)) for m in members],
            "unauthorised": [m for m in members if getattr(m, "authorisation", None) is None],
        }
    if name == "near_relatives":
        return {"filings": list(app.near_relative_filings.all())}
    if name == "documents":
        return {
            "documents": selectors_intake.household_documents_for_user(
                user=request.user, household_id=app.household_id
            ),
            "can_upload": _form_shown(request.user, app, "documents"),
        }
    return {}


def _context(
    request, app: Application, names: list[str], *, bound: HouseholdForm | None = None
) -> dict:
    forms = {}
    context = {"app": app, "can_edit": _can_edit(request.user, app)}
    for name in names:
        section = SECTIONS[name]
        if bound is not None and bound.prefix == name:
            forms[name] = bound
        else:
            forms[name] = section.form_class(household=app.household, prefix=name)
        context.update(_section_data(request, app, name))
    context["forms"] = forms
    if not context["can_edit"]:
        context["readonly_reason"] = _readonly_reason(request.user, app)
    return context


def _render_page(request, app: Application, page: str, *, bound=None, status: int = 200):
    template, names = PAGES[page]
    context = _context(request, app, names, bound=bound) | _steps(app, page)
    return render(request, template, context, status=status)


def _render_section(request, app: Application, name: str, *, bound=None, **extra):
    """The section alone, for htmx (always 200: htmx swaps only successful answers)."""
    context = _context(request, app, [name], bound=bound) | extra
    return render(request, SECTIONS[name].template, context)


def _after_change(request, app_id: int, name: str, *, notice: str):
    section = SECTIONS[name]
    if request.htmx:
        return _render_section(request, _application(request, app_id), name, notice=notice)
    messages.success(request, notice)
    return redirect(reverse(f"cases:{section.page}", args=[app_id]) + f"#section-{name}")


def _refused(request, app: Application, name: str, message: str):
    """A removal the services refused: the message in the section, or on the page."""
    if request.htmx:
        return _render_section(request, app, name, section_error=message)
    messages.error(request, message)
    return redirect(reverse(f"cases:{SECTIONS[name].page}", args=[app.pk]) + f"#section-{name}")


def _link_to(exc: DomainError) -> tuple[str, str] | None:
    """A link beside a refusal to the application it is about, which the service found
    through the access gate (a person already in another household: its draft)."""
    app = exc.see
    if not isinstance(app, Application):
        return None
    if app.state in services.EDITABLE:
        return reverse("cases:intake-members", args=[app.pk]), _("Open the draft %(number)s") % {
            "number": app.number
        }
    return reverse("cases:detail", args=[app.pk]), _("Open %(application)s") % {
        "application": str(app)
    }


def _post_section(request, application_id: int, name: str):
    app = _application(request, application_id)
    section = SECTIONS[name]
    form = section.form_class(
        request.POST, request.FILES, household=app.household, prefix=section.name
    )
    if form.is_valid():
        try:
            section.save(request.user, app, form.cleaned_data)
        except DomainError as exc:
            if not _form_shown(request.user, app, name):
                # A refused change on a read-only page: there is no form to put it on.
                return _refused(request, app, name, exc.message)
            add_domain_error(form, exc, link=_link_to(exc))
        else:
            return _after_change(request, app.pk, name, notice=str(section.done))
    if request.htmx:
        return _render_section(request, app, name, bound=form)
    return _render_page(request, app, section.page, bound=form, status=400)


# --- step 1: start ---------------------------------------------------------------------


def _own_village(user: User):
    """A village assistant files in their own village: preselected."""
    for assignment in access.role_assignments_of(user):
        if assignment.role == Role.VILLAGE_ASSISTANT:
            return assignment.region
    return None


@login_required
@require_http_methods(["GET", "POST"])
def start(request):
    access.require_role(request.user, permissions.FILE_APPLICATIONS)
    villages = selectors_intake.intake_villages_for_user(user=request.user)
    form = StartForm(
        request.POST if request.method == "POST" else None,
        villages=villages,
        initial={"village": _own_village(request.user)},
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        try:
            app = services.application_start(
                actor=request.user,
                village=data["village"],
                address=data["address"],
                phone=data["phone"],
                registration_code=data["registration_code"],
                identity_number=data["identity_number"],
                name=data["name"],
                assistance_type=data["assistance_type"],
            )
        except DomainError as exc:
            add_domain_error(form, exc, link=_link_to(exc))
        else:
            messages.success(request, _("The application is opened as a draft."))
            return redirect("cases:intake-members", app.pk)
    context = {"form": form, "app": None, "can_edit": True} | _steps(None, "intake-start")
    return render(request, "cases/intake/start.html", context, status=400 if form.is_bound else 200)


# --- steps 2 to 5: the pages and their sections -----------------------------------------


@login_required
@require_GET
def members(request, application_id: int):
    return _render_page(request, _application(request, application_id), "intake-members")


@login_required
@require_GET
def declaration(request, application_id: int):
    return _render_page(request, _application(request, application_id), "intake-declaration")


@login_required
@require_GET
def commitments(request, application_id: int):
    return _render_page(request, _application(request, application_id), "intake-commitments")


@login_required
@require_GET
def household_file(request, application_id: int):
    return _render_page(request, _application(request, application_id), "intake-documents")


@login_required
@require_POST
def section_post(request, application_id: int, section: str):
    return _post_section(request, application_id, section)


@login_required
@require_POST
def member_remove(request, application_id: int, member_id: int):
    app = _application(request, application_id)
    member = _members_by_id(app).get(member_id)
    if member is None:
        raise Http404
    try:
        services.member_remove(actor=request.user, member=member)
    except DomainError as exc:
        return _refused(request, app, "members", exc.message)
    return _after_change(request, app.pk, "members", notice=_("Member removed."))


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request, application_id: int, member_id: int):
    """Correct a member's details (cases.intake.services.member_update: the rules of adding)."""
    app = _application(request, application_id)
    member = _members_by_id(app).get(member_id)
    if member is None:
        raise Http404
    access.require_role(request.user, permissions.FILE_APPLICATIONS, app.village)
    fields = [f for f in services.MEMBER_FIELDS if f != "name"]
    initial = {"name": member.person.name} | {f: getattr(member, f) for f in fields}
    initial["self_care_assessed"] = member.self_care_failed is not None
    form = MemberEditForm(
        request.POST if request.method == "POST" else None,
        household=app.household,
        initial=initial,
    )
    if form.is_bound and form.is_valid():
        try:
            services.member_update(actor=request.user, member=member, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("The details of %(name)s are saved.") % {"name": form.cleaned_data["name"]},
            )
            return redirect(reverse("cases:intake-members", args=[app.pk]) + "#section-members")
    context = {
        "app": app,
        "member": member,
        "form": form,
        "can_edit": _can_edit(request.user, app),
    } | _steps(app, "intake-members")
    if not context["can_edit"]:
        context["readonly_reason"] = _readonly_reason(request.user, app)
    status = 400 if form.is_bound else 200
    return render(request, "cases/intake/member_edit.html", context, status=status)


@login_required
@require_POST
def declaration_row_remove(request, application_id: int, kind: str, row_id: int):
    app = _application(request, application_id)
    rows: dict[str, list[Income | Asset | RigidExpenditure]] = {
        "income": [i for m in app.household.members.all() for i in m.incomes.all()],
        "asset": list(app.household.assets.all()),
        "expenditure": list(app.household.expenditures.all()),
    }
    row = next((r for r in rows.get(kind, []) if r.pk == row_id), None)
    if row is None:
        raise Http404
    try:
        services.declaration_row_remove(actor=request.user, row=row)
    except DomainError as exc:
        return _refused(request, app, REMOVABLE[kind], exc.message)
    return _after_change(request, app.pk, REMOVABLE[kind], notice=_("Removed."))


# --- the household file: one document, and all of them as a zip -------------------------


@login_required
@require_GET
def document_download(request, household_id: int, document_id: int):
    household = selectors.household_get_for_user(user=request.user, household_id=household_id)
    document = household.documents.filter(pk=document_id).first()
    if document is None:
        raise Http404
    documents.audit_record_read(actor=request.user, household=household, what="document.read")
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@login_required
@require_GET
def household_file_zip(request, household_id: int):
    household = selectors.household_get_for_user(user=request.user, household_id=household_id)
    content = documents.household_file_zip(actor=request.user, household=household)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("household-file-%(id)s.zip") % {"id": household.pk}
    )
    return response


# --- step 6: submit ----------------------------------------------------------------------


def _case_url(application_id: int) -> str:
    # The case page belongs to the casework pages; until it exists, home.
    try:
        return reverse("cases:detail", args=[application_id])
    except NoReverseMatch:
        return reverse("home")


def _summary(app: Application) -> dict:
    """What is about to be submitted, to read over before the button: the household,
    its members, incomes, assets and the amount as the declaration would give it."""
    everyone = list(app.household.members.all())
    by_id = {m.pk: m for m in everyone}
    summary = {
        "summary_members": everyone,
        "summary_incomes": [(m, income) for m in everyone for income in m.incomes.all()],
        "summary_assets": [(a, by_id.get(a.member_id)) for a in app.household.assets.all()],
        "summary_rigid": sum((e.monthly_amount for e in app.household.expenditures.all()), 0),
    }
    try:
        summary["estimate"] = eligibility.amount_compute(application=app)
    except DomainError as exc:
        summary["estimate_error"] = exc.message
    return summary


@login_required
@require_http_methods(["GET", "POST"])
def submit(request, application_id: int):
    app = _application(request, application_id)
    status = 200
    if request.method == "POST":
        try:
            services.application_submit(actor=request.user, application_id=app.pk)
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(
                request, _("%(application)s is submitted.") % {"application": str(app)}
            )
            return redirect(_case_url(app.pk))
    context = {
        "app": app,
        "can_edit": _can_edit(request.user, app),
        "missing": services.missing_for_acceptance(app),
        **_summary(app),
    } | _steps(app, "intake-submit")
    if not context["can_edit"]:
        context["readonly_reason"] = _readonly_reason(request.user, app)
    return render(request, "cases/intake/submit.html", context, status=status)
