from webapp.supervise.views import bp

__all__ = ["bp"]
