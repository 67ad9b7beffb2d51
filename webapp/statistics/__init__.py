from webapp.statistics.views import bp

__all__ = ["bp"]
