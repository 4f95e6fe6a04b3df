"""Commune's HTTP API and persistence: FastAPI app, SQLAlchemy tables, jobs, CLI.

``api.main.create_app()`` is the app factory; ``api.services`` holds the
functions (a Session and the acting principal in, domain objects out) that
both the JSON routes and the web pages call; ``api.worker`` runs plans as
durable jobs; ``api.cli`` extends the ``planner`` command line.
"""
