"""gunicorn settings for every way the app is served (scripts/run.sh, compose.yaml, a province's hosts): docs/DEPLOY.md.

Everything comes from the environment so one file serves a laptop and a server farm.
"""
import os
import sys

# The project itself, for the JSON log formatter below (gunicorn adds it to sys.path only later, to load the app).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

wsgi_app = "webapp:create_app()"
bind = os.environ.get("BIND", "127.0.0.1:8000")
# Processes, not threads: engine work is CPU-bound Python. 2 × CPUs + 1 is gunicorn's rule of thumb; default 2.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a worker silent this long is killed and replaced
graceful_timeout = 30
# The app logs one JSON line per request with its request id (webapp/logging.py); an access log would repeat it.
accesslog = None
errorlog = "-"
# Trust X-Forwarded-Proto only from the reverse proxy (compose: any address on the private network).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's own messages (worker boot, timeouts) as JSON lines too, unless LOG_FORMAT=text.
if os.environ.get("LOG_FORMAT", "json") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "webapp.logging.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "INFO"},  # the app's records too (webapp/logging.py sees it)
        "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
    }


def post_worker_init(worker):  # noqa: ANN001, ARG001 - gunicorn's hook signature
    """The app is loaded in this worker: freeze what start-up made and collect garbage less often (a third of a
    province-wide click went to the collector otherwise; workflows/collector.py)."""
    from workflows.collector import tune_for_server  # noqa: PLC0415 - after gunicorn put the project on sys.path

    tune_for_server()
