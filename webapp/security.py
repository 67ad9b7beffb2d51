"""Permission checks for views: every request is checked on the server, whatever the page showed.

The rules themselves are workflows/permissions.py; a view names the rule it needs (`requires(permissions.may_…)`).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from workflows import permissions
from workflows.errors import NotAllowed
from workflows.models import User

DENIED = "Bạn không có quyền truy cập trang này."


def requires(rule: Callable[[User], bool]) -> Callable:
    """The view needs a logged-in user whom RULE (a workflows.permissions predicate) allows (403 otherwise)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not rule(current_user):
                raise NotAllowed(DENIED)
            return view(*args, **kwargs)

        return wrapped

    return decorate


def navigation() -> dict[str, Any]:
    """For base.html's menu: which sections to offer (the views check again on every request)."""
    user = current_user if current_user and current_user.is_authenticated else None
    return {"may": {
        "view_processes": permissions.may_view_processes(user),
        "see_boards": permissions.may_see_boards(user),
        "see_statistics": permissions.may_see_statistics(user),
        "edit_definitions": permissions.may_edit_definitions(user),
        "manage_users": permissions.may_manage_users(user),
    }}
