from webapp.calendar_admin.views import bp

__all__ = ["bp"]
