"""ASGI entry point for uvicorn: ``medledger.web.asgi:app``."""

from medledger.web.app import create_app

app = create_app()
