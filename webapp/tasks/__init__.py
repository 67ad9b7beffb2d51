from webapp.tasks import province  # noqa: F401  (the province-wide pages and their routes)
from webapp.tasks.views import bp

__all__ = ["bp"]
