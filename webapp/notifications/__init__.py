from webapp.notifications.views import bp

__all__ = ["bp"]
