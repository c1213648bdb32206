"""The staff-and-settings pages (Django admin) for data-feed admins and superusers.

Every write goes through a service or the audited mixin, so the admin leaves the same
audit trail as the portal's own pages. A feed admin sees staff and regions of their
own jurisdiction only.
"""

from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.admin import PeriodicTaskInline
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from aid_portal import access, permissions, services, tokens
from aid_portal.audit import audit_record
from aid_portal.errors import DomainError
from aid_portal.models import (
    ApiToken,
    AuditEvent,
    CalendarDay,
    CalendarYear,
    Region,
    RoleAssignment,
    User,
)
from aid_portal.schedules import DECLARED_NAMES
from aid_portal.selectors import region_list_for_user

admin.site.site_header = _("Social assistance portal: staff and settings")
admin.site.site_title = _("Staff and settings")
admin.site.index_title = _("Staff and settings")


class AuditedAdmin(admin.ModelAdmin):
    """Reference data edited in the admin: each save and delete writes an audit row."""

    def save_model(self, request, obj, form, change):
        old = model_to_dict(form.instance.__class__.objects.get(pk=obj.pk)) if change else None
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.{'change' if change else 'add'}",
                obj=obj,
                old=old,
                new=model_to_dict(obj),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action=f"{obj._meta.model_name}.delete",
                obj=obj,
                old=model_to_dict(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    # The tree is loaded from the statistics bureau's CSV (manage.py load_regions),
    # not edited by hand.
    readonly_fields = ["code", "name", "level", "parent"]

    def get_queryset(self, request):
        return region_list_for_user(user=request.user)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 1
    fields = ["role", "region", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]
    autocomplete_fields = ["region"]

    def has_change_permission(self, request, obj=None):
        # A role is granted or withdrawn, never edited in place (the audit reads cleanly).
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "full_name", "is_active", "last_login"]
    list_filter = ["is_active", "role_assignments__role"]
    search_fields = ["username", "full_name"]
    inlines = [RoleAssignmentInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Person"), {"fields": ["full_name", "phone"]}),
        (_("Status"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"fields": ["username", "full_name", "password1", "password2"]})]
    readonly_fields = ["last_login", "date_joined"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        # Staff with a role inside the admin's jurisdiction, and new staff with none yet.
        inside = access.restrict(
            RoleAssignment.objects.all(),
            request.user,
            region_field="region",
            roles=permissions.MANAGE_STAFF,
        ).values("user_id")
        return queryset.filter(is_superuser=False).filter(pk__in=inside) | queryset.filter(
            is_superuser=False, role_assignments__isnull=True
        )

    def save_model(self, request, obj, form, change):
        if not change:
            with transaction.atomic():
                super().save_model(request, obj, form, change)
                audit_record(
                    actor=request.user,
                    action="user.create",
                    obj=obj,
                    new={"username": obj.username, "full_name": obj.full_name},
                )
            return
        if "is_active" in form.changed_data:
            # Enabling and disabling are services with their own rules and audit rows.
            try:
                services.user_set_active(
                    actor=request.user, user=obj, active=obj.is_active, reason=_("staff admin")
                )
            except DomainError as exc:
                messages.error(request, exc.message)
        changed = [f for f in form.changed_data if f not in {"is_active", "password"}]
        if changed:
            with transaction.atomic():
                User.objects.filter(pk=obj.pk).update(**{f: getattr(obj, f) for f in changed})
                audit_record(
                    actor=request.user,
                    action="user.change",
                    obj=obj,
                    new={f: getattr(obj, f) for f in changed},
                )

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            if not inline_form.has_changed() and not formset._should_delete_form(inline_form):
                continue
            assignment = inline_form.instance
            try:
                if formset._should_delete_form(inline_form) and assignment.pk:
                    access.require_role(request.user, permissions.MANAGE_STAFF, assignment.region)
                    services.role_revoke(
                        actor=request.user, assignment=assignment, reason=_("staff admin")
                    )
                elif not assignment.pk and inline_form.cleaned_data.get("role"):
                    access.require_role(
                        request.user, permissions.MANAGE_STAFF, inline_form.cleaned_data["region"]
                    )
                    services.role_grant(
                        actor=request.user,
                        user=form.instance,
                        role=inline_form.cleaned_data["role"],
                        region=inline_form.cleaned_data["region"],
                    )
            except DomainError as exc:
                messages.error(request, exc.message)
            except PermissionDenied as exc:
                messages.error(request, str(exc))

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # the form was valid
            with transaction.atomic():
                user = User.objects.get(pk=id)
                audit_record(actor=request.user, action="user.password_set", obj=user)
        return response

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = region_list_for_user(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Staff's API tokens, to revoke (a lost laptop, a leaver): never made or edited here,
    and the secret is not stored, so it cannot be shown. Revoking goes through the
    service, which writes the audit row; "delete" is the admin's word for it."""

    list_display = ["user", "name", "created", "expiry", "last_used"]
    list_filter = ["created", "expiry"]
    search_fields = ["user__username", "user__full_name", "name"]
    fields = ["user", "name", "created", "expiry", "last_used"]
    readonly_fields = fields
    actions = ["revoke"]

    def get_queryset(self, request):
        return tokens.api_tokens_managed_by(user=request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "revoke" says what it does
        return actions

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected API tokens"), permissions=["delete"])
    def revoke(self, request, queryset):
        self.delete_queryset(request, queryset)
        messages.success(request, _("The selected API tokens are revoked."))

    def delete_model(self, request, obj):
        try:
            tokens.api_token_revoke(actor=request.user, token=obj, reason=_("staff admin"))
        except DomainError as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(CalendarYear)
class CalendarYearAdmin(AuditedAdmin):
    list_display = ["year", "source", "entered_at"]


@admin.register(CalendarDay)
class CalendarDayAdmin(AuditedAdmin):
    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    date_hierarchy = "date"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the table refuses changes anyway; the admin does not offer them."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "region"]
    list_filter = ["action"]
    search_fields = ["actor_label", "object_id", "object_label"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- third-party pages a data-feed admin uses: audited, and limited to their places ---


class AuditedPeriodicTaskAdmin(AuditedAdmin, BeatPeriodicTaskAdmin):
    """Schedules (batch comparisons, payment start...) change what the portal does on
    its own: each edit is recorded like any other change."""

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # schedules_sync finds a declared schedule by its name: renamed, it would be
        # created again at the next migrate and its task would run twice.
        if obj is not None and obj.name in DECLARED_NAMES:
            return (*readonly, "name")
        return readonly

    @admin.display(description=_("The cron schedule in words"))
    def crontab_translation(self, obj):
        # celery-beat's own method has no label: the page showed its name in English.
        return super().crontab_translation(obj)


class TasksOfScheduleInline(PeriodicTaskInline):
    """celery-beat's list of a schedule's tasks, with a Chinese head for the task it
    runs (its model labels that field with a plain English string, out of gettext)."""

    fields = ("name", "task_to_run", "args", "kwargs")
    readonly_fields = fields

    @admin.display(description=_("Task to run"))
    def task_to_run(self, obj):
        return obj.task


def _with_chinese_inline(model) -> None:
    """Re-register a celery-beat schedule's admin with TasksOfScheduleInline."""
    base = type(admin.site._registry[model])
    attrs = {"__module__": __name__, "inlines": [TasksOfScheduleInline]}
    if model is CrontabSchedule:
        # A property of the model, labelled by its name ("Human readable") otherwise.
        attrs["human_readable"] = admin.display(description=_("In words"))(
            lambda self, obj: obj.human_readable
        )
    admin.site.unregister(model)
    admin.site.register(model, type(base.__name__, (base,), attrs))


class JurisdictionAccessAttemptAdmin(AxesAccessAttemptAdmin):
    """Locked-out logins of the staff inside the admin's places only; unlocking (deleting
    the attempt) is recorded."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        staff = access.restrict(
            RoleAssignment.objects.all(),
            request.user,
            region_field="region",
            roles=permissions.MANAGE_STAFF,
        ).values_list("user__username", flat=True)
        return queryset.filter(username__in=staff)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit_record(
                actor=request.user,
                action="login.unlock",
                obj=obj,
                old={"username": obj.username, "failures": obj.failures_since_start},
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


# Django's groups and permissions grant nothing here: who may do what, and where, is a
# role held over a place (RoleAssignment, aid_portal.access). A groups page would offer
# a second, placeless way to grant rights, and list Django's English permission names.
admin.site.unregister(Group)
admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, AuditedPeriodicTaskAdmin)
admin.site.unregister(AccessAttempt)
admin.site.register(AccessAttempt, JurisdictionAccessAttemptAdmin)
for _schedule in (ClockedSchedule, CrontabSchedule, SolarSchedule, IntervalSchedule):
    _with_chinese_inline(_schedule)
