"""Reports and dashboards: the store (``store.py``), what a report may hold (``spec.py``), the
diff of two revisions (``diff.py``), the data bundle (``bundle.py``) and the HTML export
(``export.py``); the routes are ``server/routes/reports.py``."""
