"""Integrations with training frameworks: ``wakelog.integration.paddle`` for PaddlePaddle.

Nothing here is imported by ``import wakelog``; each integration loads its framework only when
the user asks for it.
"""
