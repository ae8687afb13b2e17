"""Run monitoring: system metrics (``system``, ``gpu``), console capture (``console``) and
environment / git / requirements capture (``environment``).

Import the submodule you need; nothing is imported here, so that ``import wakelog`` stays cheap
and psutil, pynvml and git subprocesses load only when a run actually uses them.
"""
