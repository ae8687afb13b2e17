"""The wakelog tracking server (ASGI): ingest, query API, auth, live push and the web app."""
