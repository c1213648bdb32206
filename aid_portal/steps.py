"""Workflows as declared step tables, and the one machinery every workflow uses.

Each workflow (an application's path, a periodic review, a credit finding, a spot-check
case, a payment roster) declares its steps once, in a ``StepTable``: the step's name,
who may take it, the states it leaves from, the state it goes to, and its labels. Then:

- the services lock the row and check the step against the table (``StepTable.check``),
  and move the object with ``StepTable.move`` / ``note``, which write the workflow's
  event row and the audit row in the caller's transaction;
- the pages and the API offer and route steps from the table. How a page or the API
  collects a step's input is bound to the table by each layer (``bind_page``,
  ``bind_api``), so one generic page view (``step_page``) and one generic API view
  (``step_api_views``) serve every workflow. A step whose service lives in a higher app
  (verification's request on the application's path) is bound by that app; the table
  stays in the app that owns the state, and nothing imports upward;
- the access-matrix test and the system check (``check_bindings``) read it: every step
  is bound in both layers, or the portal does not start.

A step's name is its only spelling: the service's event and audit action, the page's
``act/<name>/`` and the API's ``<name with dashes>/``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core import checks
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.views import APIView

from aid_portal import access
from aid_portal.audit import audit_record
from aid_portal.errors import Conflict, DomainError
from aid_portal.forms import add_domain_error
from aid_portal.models import Region, User

Roles = frozenset[str] | Callable[[Any], frozenset[str]]

# Every table declared, whichever app declares it: the system check reads them all.
DECLARED: list[StepTable] = []


@dataclass(frozen=True)
class Step:
    """One step of a workflow."""

    name: str
    label: Promise  # the button: "Approve"
    roles: Roles  # a set, or a function of the object (the county's policy decides)
    leaves: frozenset[str]  # the states it may be taken from
    to: str | None = None  # the state it goes to; None: the state stays, or the service chooses
    done: Promise | None = None  # the timeline's wording: "approved"
    danger: bool = False  # shown as a destructive action
    # Offered among the next steps of the object's page. False for a step with a page of
    # its own (the last intake step hands the application in).
    on_page: bool = True
    # Taken by the portal itself (a scheduled task) or inside another workflow's step,
    # never by a person through a page or the API.
    internal: bool = False
    # Bound to the API. False for an edit a page makes beside a declaration, which the API
    # makes through the declaration's own endpoints.
    api: bool = True

    @property
    def slug(self) -> str:
        """The step's name in an API path."""
        return self.name.replace("_", "-")

    def roles_for(self, obj) -> frozenset[str]:
        return frozenset(self.roles(obj) if callable(self.roles) else self.roles)


@dataclass(frozen=True)
class PageBinding:
    """How a page takes a step: its form and the call of the service."""

    form_class: type[forms.Form]
    run: Callable[[HttpRequest, Any, forms.Form], str | None]  # returns the success message
    form_kwargs: Callable[[HttpRequest, Any], dict] | None = None
    # Offered only when this holds as well (an open notice to close, say); the service
    # checks the same rule again.
    when: Callable[[Any], bool] | None = None
    # Offered as a section of its own; False: beside a row it concerns (a removal).
    listed: bool = True
    # What the offered (unbound) form starts with: the row of the object the step acts on
    # (a finding's open interview). Not read for a form that was sent.
    initial: Callable[[Any], dict] | None = None

    def form(self, request: HttpRequest, obj, data=None, files=None) -> forms.Form:
        kwargs = self.form_kwargs(request, obj) if self.form_kwargs else {}
        if data is None:
            if self.initial is not None:
                kwargs = {**kwargs, "initial": self.initial(obj)}
            return self.form_class(**kwargs)
        return self.form_class(data, files, **kwargs)


@dataclass(frozen=True)
class ApiBinding:
    """How the API takes a step: its input serializer and the call of the service."""

    serializer: type[serializers.Serializer]
    act: Callable[..., None]  # act(actor=..., obj=..., data=...)
    description: str = ""


class StepTable:
    """The declared steps of one workflow, and the rows they move.

    ``region`` gives the place an object belongs to (the jurisdiction its roles are
    checked in); ``event`` writes the workflow's own history row (None: the workflow
    keeps none beside the audit log); ``audit_prefix`` names its audit actions
    (``application.approve``); ``state_field`` names the object's state (``status``
    on a row that calls it so; a property where the state is derived from the row);
    ``audit_facts`` adds what the audit row of every move records of the object beside
    its state (a credit finding's level).
    """

    def __init__(
        self,
        name: str,
        steps: Iterable[Step],
        *,
        region: Callable[[Any], Region],
        event: Callable[..., models.Model] | None,
        audit_prefix: str,
        events: dict[str, Promise] | None = None,
        open_if: Callable[[Any], bool] | None = None,
        state_field: str = "state",
        audit_facts: Callable[[Any], dict] | None = None,
    ) -> None:
        self.name = name
        # No step at all is offered unless this holds (a review of a case still enrolled).
        self.open_if = open_if
        self._steps = {step.name: step for step in steps}
        self.region = region
        self._event = event
        self.audit_prefix = audit_prefix
        self.state_field = state_field
        self.audit_facts = audit_facts
        # Events that are outcomes rather than steps ("returned for completion").
        self._outcome_labels = dict(events or {})
        self._pages: dict[str, PageBinding] = {}
        DECLARED.append(self)
        self._apis: dict[str, ApiBinding] = {}

    def __repr__(self) -> str:
        return f"<StepTable {self.name}: {len(self._steps)} steps>"

    def state_of(self, obj) -> str:
        return getattr(obj, self.state_field)

    def __getitem__(self, name: str) -> Step:
        try:
            return self._steps[name]
        except KeyError:
            raise LookupError(f"the {self.name} workflow has no step {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._steps

    def __iter__(self) -> Iterator[Step]:
        return iter(self._steps.values())

    # --- labels ---------------------------------------------------------------------------

    def event_labels(self) -> dict[str, Promise]:
        """How each event of the timeline reads: the steps' ``done`` and the outcomes."""
        return {
            **{step.name: step.done for step in self if step.done is not None},
            **self._outcome_labels,
        }

    # --- bindings -------------------------------------------------------------------------

    def bind_page(
        self,
        name: str,
        *,
        form: type[forms.Form],
        run: Callable[[HttpRequest, Any, forms.Form], str | None],
        form_kwargs: Callable[[HttpRequest, Any], dict] | None = None,
        when: Callable[[Any], bool] | None = None,
        listed: bool = True,
        initial: Callable[[Any], dict] | None = None,
    ) -> None:
        self[name]  # a binding for a step nobody declared is a bug
        if name in self._pages:
            raise LookupError(f"the {self.name} step {name!r} is bound to a page twice")
        self._pages[name] = PageBinding(form, run, form_kwargs, when, listed, initial)

    def bind_api(
        self,
        name: str,
        *,
        serializer: type[serializers.Serializer],
        act: Callable[..., None],
        description: str = "",
    ) -> None:
        self[name]
        if name in self._apis:
            raise LookupError(f"the {self.name} step {name!r} is bound to the API twice")
        self._apis[name] = ApiBinding(serializer, act, description)

    def page(self, name: str) -> PageBinding | None:
        return self._pages.get(name)

    def api(self, name: str) -> ApiBinding | None:
        return self._apis.get(name)

    def unbound(self) -> list[str]:
        """People's steps missing a page or an API binding (the system check reports them)."""
        missing = []
        for step in self:
            if step.internal:
                continue
            if step.on_page and step.name not in self._pages:
                missing.append(f"{self.name}.{step.name} (page)")
            if step.api and step.name not in self._apis:
                missing.append(f"{self.name}.{step.name} (API)")
        return missing

    # --- who may take what ----------------------------------------------------------------

    def may_take(self, user: User, obj, name: str) -> bool:
        """The user holds a role of the step over the object's place (state not checked)."""
        return access.has_role(user, self[name].roles_for(obj), self.region(obj))

    def offered(self, user: User, obj) -> list[Step]:
        """The steps a page offers: valid in the object's state, and the user's own."""
        if self.open_if is not None and not self.open_if(obj):
            return []
        offered = []
        for step in self:
            binding = self._pages.get(step.name)
            if binding is None or self.state_of(obj) not in step.leaves:
                continue
            if binding.when is not None and not binding.when(obj):
                continue
            if self.may_take(user, obj, step.name):
                offered.append(step)
        return offered

    def page_forms(
        self, request: HttpRequest, obj, bound: tuple[str, forms.Form] | None = None
    ) -> list[dict]:
        """The steps a page offers with their forms: the one sent back with its errors
        (``bound``, open) or a fresh one; each ``{"action", "form", "open", "listed"}``."""
        found = []
        for step in self.offered(request.user, obj):
            binding = self._pages[step.name]
            if bound and bound[0] == step.name:
                form, is_open = bound[1], True
            else:
                form, is_open = binding.form(request, obj), False
            found.append({"action": step, "form": form, "open": is_open, "listed": binding.listed})
        return found

    def check(
        self,
        name: str,
        obj,
        actor: User | None,
        *,
        check_role: bool = True,
        state_message: Callable[[Any], str] | None = None,
    ) -> Step:
        """Inside the service, after the row lock: the actor's role, then the state."""
        step = self[name]
        if check_role and actor is not None:
            access.require_role(actor, step.roles_for(obj), self.region(obj))
        if self.state_of(obj) not in step.leaves:
            raise Conflict(
                state_message(obj)
                if state_message
                else _("Not possible while it is %(state)s.")
                % {"state": getattr(obj, f"get_{self.state_field}_display")()}
            )
        return step

    # --- moving the row -------------------------------------------------------------------

    def move(
        self,
        obj,
        actor: User | None,
        action: str,
        to: str | None = None,
        *,
        reason: str = "",
        data: dict | None = None,
        fields: dict | None = None,
        audit_action: str | None = None,
        event_fields: dict | None = None,
    ) -> Any:
        """Set the new state (the step's ``to`` unless given) and the other fields; write
        the event row and the audit row in the caller's transaction. ``event_fields`` are
        the workflow's own fields of its event row (the day a finding's step happened)."""
        target = to if to is not None else self[action].to
        if target is None:
            raise LookupError(f"the {self.name} step {action!r} goes to no state of its own")
        old = self.state_of(obj)
        fields = {**(fields or {}), self.state_field: target}
        for field_name, value in fields.items():
            setattr(obj, field_name, value)
        update = [*fields]
        if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            update.append("updated_at")
        obj.save(update_fields=update)
        if self._event is not None:
            self._event(
                obj, actor, action, old, target, reason=reason, data=data, **(event_fields or {})
            )
        facts = self.audit_facts(obj) if self.audit_facts else {}
        audit_record(
            actor=actor,
            action=audit_action or f"{self.audit_prefix}.{action}",
            obj=obj,
            region=self.region(obj),
            old={"state": old},
            new={"state": target, **facts, **(data or {})},
            reason=reason,
        )
        return obj

    def note(
        self,
        obj,
        actor: User | None,
        action: str,
        *,
        reason: str = "",
        data: dict | None = None,
        audit_action: str | None = None,
        audit_new: dict | None = None,
        event_fields: dict | None = None,
    ) -> None:
        """A step that leaves the state as it is: its event row and its audit row."""
        if self._event is not None:
            state = self.state_of(obj)
            self._event(
                obj, actor, action, state, state, reason=reason, data=data, **(event_fields or {})
            )
        audit_record(
            actor=actor,
            action=audit_action or f"{self.audit_prefix}.{action}",
            obj=obj,
            region=self.region(obj),
            new=data if audit_new is None else audit_new,
            reason=reason,
        )


# --- the generic page view ---------------------------------------------------------------


def step_page(
    request: HttpRequest,
    *,
    table: StepTable,
    obj,
    name: str,
    render: Callable[[HttpRequest, Any, tuple[str, forms.Form], int], HttpResponse],
    done_url: str,
) -> HttpResponse:
    """Take one step from a page: permission first, then the form, then the service.

    ``obj`` comes through the access gate (a 404 outside the user's places). A role that
    may never take the step is refused with 403 whatever it sent; a bad form or a refusal
    by the service re-renders the page (``render``) with the form and its errors (400);
    a lost race is a warning on the page the user is sent back to.
    """
    binding = table.page(name) if name in table else None
    if binding is None:
        raise Http404(_("No such action."))
    step = table[name]
    if not table.may_take(request.user, obj, name):
        raise PermissionDenied
    form = binding.form(request, obj, request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Check the form “%(action)s” below.") % {"action": step.label})
        return render(request, obj, (name, form), 400)
    try:
        done = binding.run(request, obj, form)
    except Conflict as exc:
        # Someone acted first, or the object moved on: the form no longer applies.
        messages.warning(request, exc.message)
    except DomainError as exc:
        add_domain_error(form, exc)  # with each line of a refused file, if any
        messages.error(request, exc.message)
        return render(request, obj, (name, form), 400)
    else:
        if done:
            messages.success(request, done)
    return redirect(done_url)


# --- the generic API view ----------------------------------------------------------------


class StepAPIView(APIView):
    """One step through the API: the gate, the role, then the body, then the service.

    The role is checked before the body is read, so a caller who may never take the step
    gets 403 whatever it sends, and learns nothing of what the step expects.
    """

    table: StepTable
    step_name: str
    # gate(user=..., pk=...) -> the object, through the access gate (404 outside)
    gate: Callable[..., Any]
    # parse(serializer_class, request, obj) -> validated data (400 with field errors)
    parse: Callable[..., dict]
    # respond(request, obj) -> the object as it stands after the step
    respond: Callable[..., Any]

    def post(self, request, pk: int):
        obj = type(self).gate(user=request.user, pk=pk)
        if not self.table.may_take(request.user, obj, self.step_name):
            raise PermissionDenied
        binding = self.table.api(self.step_name)
        data = type(self).parse(binding.serializer, request, obj)
        binding.act(actor=request.user, obj=obj, data=data)
        return type(self).respond(request, obj)


def step_api_views(
    table: StepTable,
    *,
    gate: Callable[..., Any],
    parse: Callable[..., dict],
    respond: Callable[..., Any],
    response_serializer: type[serializers.Serializer] | dict[int, type[serializers.Serializer]],
    tags: list[str] | None = None,
) -> dict[str, type[StepAPIView]]:
    """One view class per step bound to the API, keyed by the step's slug.

    A class each (not one class with arguments) so that the OpenAPI schema shows every
    step's own input serializer. ``response_serializer`` by status (``{201: ...}``)
    where ``respond`` answers with another status than 200.
    """
    views: dict[str, type[StepAPIView]] = {}
    for step in table:
        binding = table.api(step.name)
        if binding is None:
            continue
        view = type(
            f"{table.name.title().replace('_', '')}{step.name.title().replace('_', '')}StepView",
            (StepAPIView,),
            {
                "table": table,
                "step_name": step.name,
                "gate": staticmethod(gate),
                "parse": staticmethod(parse),
                "respond": staticmethod(respond),
                "__doc__": binding.description or str(step.label),
            },
        )
        views[step.slug] = extend_schema(
            request=binding.serializer, responses=response_serializer, tags=tags
        )(view)
    return views


def check_bindings(tables: Iterable[StepTable]) -> list[str]:
    """Every declared step bound in both layers."""
    return [missing for table in tables for missing in table.unbound()]


@checks.register()
def step_bindings_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The portal does not start while a person's step lacks its page or API binding."""
    return [
        checks.Error(f"step without its binding: {missing}", id="aid_portal.E001")
        for missing in check_bindings(DECLARED)
    ]
