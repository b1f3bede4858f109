from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from accounts.models import ApiKey


class RolePermission(permissions.BasePermission):
    """Grants a request when its key's role has the capability the view asks for.

    Views declare ``capabilities`` (method -> capability) and may refine per action with
    ``action_capabilities`` (action name -> capability).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return False
        if getattr(view, "action", "") is None:
            return True  # the route has no handler for this method: let DRF answer 405
        capability = view.required_capability(request)
        return capability is not None and api_key.can(capability)
