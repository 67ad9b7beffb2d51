from webapp.definitions.views import bp

__all__ = ["bp"]
