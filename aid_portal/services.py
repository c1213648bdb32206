"""State changes of the shared core: the region tree, staff, roles and grants.

Each service is keyword-only, runs in one transaction and writes its audit row there.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from aid_portal.audit import audit_record
from aid_portal.errors import DomainError
from aid_portal.models import (
    ROLE_LEVELS,
    ApiToken,
    Region,
    RegionUserObjectPermission,
    Role,
    RoleAssignment,
    User,
)


class RegionImportError(DomainError):
    """The region CSV has errors; ``errors`` lists each with its line number."""


@dataclass(frozen=True)
class RegionImportResult:
    created: int
    updated: int


REGION_CSV_COLUMNS = ("code", "name", "parent_code")


def region_tree_load(*, csv_text: str, actor: User | None) -> RegionImportResult:
    """Load or update region nodes from CSV (columns code,name,parent_code), all or nothing.

    Every line is checked before anything is written; any error rejects the whole file
    with the list of errors by line. A code already in the database is updated (its
    name), so loading the same file twice is harmless. A parent may come earlier or
    later in the file, or already exist.
    """
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    missing = [c for c in REGION_CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise RegionImportError(
            _("The file lacks the columns: %(columns)s.") % {"columns": ", ".join(missing)}
        )
    errors: list[str] = []
    rows: dict[str, tuple[int, str, str]] = {}  # code -> (line, name, parent_code)
    for line, row in enumerate(reader, start=2):
        code = (row["code"] or "").strip()
        name = (row["name"] or "").strip()
        parent_code = (row["parent_code"] or "").strip()
        if len(code) != 12 or not code.isdigit():
            errors.append(
                _("Line %(line)d: the code %(code)r is not 12 digits.")
                % {"line": line, "code": code}
            )
            continue
        if not name:
            errors.append(_("Line %(line)d: the name is empty.") % {"line": line})
        if code in rows:
            errors.append(
                _("Line %(line)d: the code %(code)s already appears on line %(first)d.")
                % {"line": line, "code": code, "first": rows[code][0]}
            )
            continue
        rows[code] = (line, name, parent_code)

    existing = {
        r.code: r
        for r in Region.objects.filter(code__in=[*rows, *(p for _l, _n, p in rows.values())])
    }
    for code, (line, _name, parent_code) in rows.items():
        level = Region.level_of_code(code)
        if level == Region.Level.PROVINCE:
            if parent_code:
                errors.append(_("Line %(line)d: a province has no parent.") % {"line": line})
            continue
        if not parent_code:
            errors.append(_("Line %(line)d: the parent code is missing.") % {"line": line})
            continue
        if parent_code not in rows and parent_code not in existing:
            errors.append(
                _("Line %(line)d: the parent code %(parent)s is unknown.")
                % {"line": line, "parent": parent_code}
            )
            continue
        parent_level = Region.level_of_code(parent_code)
        if parent_level >= level or not code.startswith(
            Region.code_prefix(parent_code, parent_level)
        ):
            errors.append(
                _("Line %(line)d: %(code)s cannot lie under %(parent)s.")
                % {"line": line, "code": code, "parent": parent_code}
            )
    if errors:
        raise RegionImportError(
            _("The region file was not loaded: %(count)d error(s).") % {"count": len(errors)},
            errors=errors,
        )

    created = updated = 0
    with transaction.atomic():
        # Parents before children: sorting by level guarantees it.
        for code in sorted(rows, key=lambda c: (Region.level_of_code(c), c)):
            _line, name, parent_code = rows[code]
            parent = existing.get(parent_code) if parent_code else None
            if code in existing:
                region = existing[code]
                if region.name != name:
                    Region.objects.filter(pk=region.pk).update(name=name)
                    updated += 1
                continue
            region = Region.objects.create(
                code=code, name=name, level=Region.level_of_code(code), parent=parent
            )
            existing[code] = region
            created += 1
        audit_record(
            actor=actor,
            action="region.load",
            new={"created": created, "updated": updated, "rows": len(rows)},
        )
    return RegionImportResult(created=created, updated=updated)


def role_grant(*, actor: User | None, user: User, role: str, region: Region) -> RoleAssignment:
    """Give ``user`` ``role`` at ``region`` (a village, a township or a county and above)."""
    _refuse_self_service(actor=actor, user=user)
    allowed_levels = ROLE_LEVELS.get(role)
    if allowed_levels is None:
        raise DomainError(_("Unknown role."), field="role")
    if region.level not in allowed_levels:
        raise DomainError(
            _("This role is held at the level of: %(levels)s.")
            % {"levels": "、".join(str(Region.Level(lv).label) for lv in allowed_levels)},
            field="region",
        )
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.get_or_create(
            user=user, role=role, region=region, defaults={"granted_by": actor}
        )
        if not created:
            raise DomainError(_("This user already holds this role here."), field="role")
        _sync_staff_access(user)
        audit_record(
            actor=actor,
            action="role.grant",
            obj=user,
            region=region,
            new={"role": role, "region": region.code},
        )
    return assignment


def role_revoke(*, actor: User | None, assignment: RoleAssignment, reason: str) -> None:
    _refuse_self_service(actor=actor, user=assignment.user)
    with transaction.atomic():
        deleted, _rows = RoleAssignment.objects.filter(pk=assignment.pk).delete()
        if not deleted:
            raise DomainError(_("This role had already been withdrawn."))
        _sync_staff_access(assignment.user)
        audit_record(
            actor=actor,
            action="role.revoke",
            obj=assignment.user,
            region=assignment.region,
            old={"role": assignment.role, "region": assignment.region.code},
            reason=reason,
        )


# What a data-feed admin may do in the staff-and-settings pages (Django admin).
FEED_ADMIN_GROUP = "feed admins"
FEED_ADMIN_PERMISSIONS = [
    ("aid_portal", "view_region"),
    ("aid_portal", "view_user"),
    ("aid_portal", "add_user"),
    ("aid_portal", "change_user"),
    ("aid_portal", "view_roleassignment"),
    ("aid_portal", "add_roleassignment"),
    ("aid_portal", "delete_roleassignment"),
    ("aid_portal", "view_calendaryear"),
    ("aid_portal", "add_calendaryear"),
    ("aid_portal", "change_calendaryear"),
    ("aid_portal", "view_calendarday"),
    ("aid_portal", "add_calendarday"),
    ("aid_portal", "change_calendarday"),
    ("aid_portal", "delete_calendarday"),
    ("django_celery_beat", "view_periodictask"),
    ("django_celery_beat", "change_periodictask"),
    ("django_celery_beat", "view_crontabschedule"),
    ("django_celery_beat", "add_crontabschedule"),
    ("aid_portal", "view_apitoken"),
    ("aid_portal", "delete_apitoken"),  # revoking a token (aid_portal.admin.ApiTokenAdmin)
    ("axes", "view_accessattempt"),
    ("axes", "delete_accessattempt"),
    ("cases", "view_proofitem"),
    ("cases", "add_proofitem"),
    ("cases", "change_proofitem"),
    ("credit", "view_behaviour"),
    ("credit", "add_behaviour"),
    ("credit", "change_behaviour"),
]


def feed_admin_group_sync(**_kwargs) -> None:
    """Bring an existing feed-admin group up to FEED_ADMIN_PERMISSIONS (after migrate)."""
    if Group.objects.filter(name=FEED_ADMIN_GROUP).exists():
        _feed_admin_group()


def _feed_admin_group() -> Group:
    # The permissions are set every time, so a release that adds one reaches the group.
    group, _created = Group.objects.get_or_create(name=FEED_ADMIN_GROUP)
    wanted = Q()
    for app_label, codename in FEED_ADMIN_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(wanted))
    return group


def _sync_staff_access(user: User) -> None:
    """Data-feed admins work in the staff pages; nobody else does (but superusers)."""
    is_feed_admin = RoleAssignment.objects.filter(user=user, role=Role.FEED_ADMIN).exists()
    User.objects.filter(pk=user.pk).update(is_staff=is_feed_admin or user.is_superuser)
    if is_feed_admin:
        user.groups.add(_feed_admin_group())
    else:
        user.groups.remove(*Group.objects.filter(name=FEED_ADMIN_GROUP))


def _refuse_self_service(*, actor: User | None, user: User) -> None:
    """Nobody but a superuser changes their own roles: a data-feed admin could otherwise
    make themselves a county auditor and read the audit log."""
    if actor is not None and actor.pk == user.pk and not actor.is_superuser:
        raise DomainError(_("You cannot change your own roles."), field="role")


def user_create(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    password: str | None,
    is_superuser: bool = False,
) -> User:
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise DomainError(_("This username is taken."), field="username")
        user = User(
            username=username, full_name=full_name, is_superuser=is_superuser, is_staff=is_superuser
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            new={"username": username, "full_name": full_name, "is_superuser": is_superuser},
        )
    return user


def user_set_active(*, actor: User | None, user: User, active: bool, reason: str) -> None:
    """Enable or disable an account. A disabled user's sessions end at once: Django's
    auth middleware refuses an inactive user on the very next request, and API tokens
    are deleted here."""
    if not reason.strip():
        raise DomainError(_("Say why the account is enabled or disabled."), field="reason")
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk, is_active=not active).update(is_active=active)
        if not changed:
            raise DomainError(
                _("This account is already enabled.")
                if active
                else _("This account is already disabled.")
            )
        if not active:
            ApiToken.objects.filter(user=user).delete()
        audit_record(
            actor=actor,
            action="user.enable" if active else "user.disable",
            obj=user,
            old={"is_active": not active},
            new={"is_active": active},
            reason=reason,
        )
    user.is_active = active


def region_cover_grant(*, actor: User | None, user: User, region: Region, reason: str) -> None:
    """Let ``user`` read the cases of ``region`` (cover for an absent colleague)."""
    if not reason.strip():
        raise DomainError(_("Say why the access is granted."), field="reason")
    with transaction.atomic():
        assign_perm("aid_portal.view_region_cases", user, region)
        audit_record(
            actor=actor,
            action="region.cover_grant",
            obj=user,
            region=region,
            new={"region": region.code},
            reason=reason,
        )


def region_cover_revoke(*, actor: User | None, user: User, region: Region, reason: str) -> None:
    with transaction.atomic():
        if not RegionUserObjectPermission.objects.filter(
            user=user, content_object=region, permission__codename="view_region_cases"
        ).exists():
            raise DomainError(_("This user has no cover access to this region."))
        remove_perm("aid_portal.view_region_cases", user, region)
        audit_record(
            actor=actor,
            action="region.cover_revoke",
            obj=user,
            region=region,
            old={"region": region.code},
            reason=reason,
        )
