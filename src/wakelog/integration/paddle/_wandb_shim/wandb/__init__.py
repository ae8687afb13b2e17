"""wakelog's opt-in ``wandb`` alias: present on ``sys.path`` only when the user put it there.

Importing it makes ``wandb`` the ``wakelog`` module (``sys.modules["wandb"] is wakelog``), unless a
real wandb is installed further down the path: then it refuses with an ``ImportError``.
See ``wakelog.integration.paddle._alias``.
"""

from wakelog.integration.paddle._alias import activate_from_shim

activate_from_shim()
