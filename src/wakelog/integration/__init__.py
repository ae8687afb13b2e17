"""Integrations with training frameworks: ``wakelog.integration.paddle`` for PaddlePaddle.

``import wakelog`` imports only their light registration (``register_hooks``): an integration
plugs into the SDK's hooks (``sdk/_hooks.py``) instead of being imported by it, and loads its
framework only when the user asks for it.
"""
