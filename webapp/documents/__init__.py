from webapp.documents.views import bp

__all__ = ["bp"]
