"""The stock ``wandb`` client talking to wakelog (``WANDB_BASE_URL`` + ``WANDB_API_KEY``).

The client speaks GraphQL for run metadata and upload URLs, a JSON "file stream" for history,
system metrics, summary and console, and plain PUTs for files. Each module maps one of them onto
what wakelog already has, so a run logged by ``wandb`` lands exactly like one of wakelog's SDK:

* ``graphql``: parses a request with graphql-core and dispatches its top-level fields to the
  hand-written resolvers of ``operations``; anything else is answered with an error naming it.
* ``operations``: viewer, server info and features, run upsert, resume status, stop polling,
  run-file upload URLs.
* ``records``: a wandb run's changes as run-log records, numbered under the run's lock and applied
  by the ingest (``store.ingest``), so they are exactly-once like the uploader's.
* ``filestream``: the file-stream body onto those records (deduplicated by what the run holds).
* ``uploads``: signed upload URLs and the uploads themselves (content-addressed blobs).
* ``mapping``: wandb's config, system-metric and metadata shapes into wakelog's.
"""
