"""Saved views: named workspace states of a project (``store.py``), checked by ``state.py``."""
