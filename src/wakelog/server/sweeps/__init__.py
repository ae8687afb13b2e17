"""Sweeps: wandb sweep configurations, the search, hyperband and the trials in the database."""
