"""Getting runs to the server: the HTTP client, the uploader process and ``wakelog sync``."""
