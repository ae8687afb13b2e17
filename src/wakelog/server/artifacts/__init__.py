"""Artifacts: versioned, deduplicated sets of files, their lineage and the model registry."""
