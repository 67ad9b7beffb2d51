from webapp.tasks.views import bp

__all__ = ["bp"]
