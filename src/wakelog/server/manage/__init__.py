"""Managing runs and projects: edits, the trash, moves, project settings and overview.

Each change happens in one write transaction with its audit entry (``server/audit.py``); the
routes (``routes/manage.py``) check roles first (``server/permissions.py``).
"""
