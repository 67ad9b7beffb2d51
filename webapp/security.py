"""Permission checks for views: every request is checked on the server, whatever the page showed."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from workflows.errors import NotAllowed
from workflows.models import Role


def roles_required(*roles: Role) -> Callable:
    """The view needs a logged-in user holding one of ROLES (403 otherwise)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.role_set & set(roles):
                raise NotAllowed("Bạn không có quyền truy cập trang này.")
            return view(*args, **kwargs)

        return wrapped

    return decorate
