"""The HTTP API, one router per concern; every route but ``/health`` needs a user."""
