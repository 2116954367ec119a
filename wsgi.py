"""The WSGI entry point (gunicorn wsgi:app) and the `flask` command's app."""
import sys

from webapp import create_app
from webapp.urls import ConfigurationError

try:
    app = create_app()
except ConfigurationError as refusal:
    sys.exit(f"Roster cannot start: {refusal}")
