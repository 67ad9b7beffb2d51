from webapp.processes.views import bp

__all__ = ["bp"]
