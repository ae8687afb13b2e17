"""The query side of the server: run filters and sorting, downsampled histories, exports.

Nothing here builds SQL from user text: filters and sort keys are parsed into a small AST of
whitelisted fields (``filters/``) and compiled to SQLAlchemy expressions with bound values.
HTTP is not this package's business: the routes and ``server/http.py`` answer with what it computes.
"""
