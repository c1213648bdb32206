from django.conf import settings

from aid_portal import access, permissions
from aid_portal.navigation import navigation_for


def portal(request):
    user = request.user
    if not user.is_authenticated:
        return {"portal_name": settings.PORTAL_NAME}
    return {
        "portal_name": settings.PORTAL_NAME,
        "nav_items": navigation_for(user, request.path),
        "my_roles": access.role_assignments_of(user),
        # The top bar's search box (cases:search), for those who read cases.
        "may_search": access.has_role(user, permissions.READ_CASES),
    }
