from webapp.admin import units  # noqa: F401 - registers the units pages on bp
from webapp.admin.views import bp

__all__ = ["bp"]
