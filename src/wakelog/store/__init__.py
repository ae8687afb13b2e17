"""Server-side storage: the SQL schema and its migrations, packed metric series, ingest, blobs."""
