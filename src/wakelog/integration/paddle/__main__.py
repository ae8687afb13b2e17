"""``python -m wakelog.integration.paddle``: the opt-in ``wandb`` alias from the command line.

python -m wakelog.integration.paddle alias-path
    print the folder to put on PYTHONPATH so that ``import wandb`` gives wakelog
python -m wakelog.integration.paddle with-alias COMMAND [ARGS...]
    run COMMAND with that folder prepended to PYTHONPATH (children inherit it), e.g.
    ``python -m wakelog.integration.paddle with-alias python -m paddle.distributed.launch train.py``
"""

from __future__ import annotations

import os
import sys

from wakelog.integration.paddle._alias import alias_path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["alias-path"] and len(args) == 1:
        print(alias_path())
        return 0
    if args[:1] == ["with-alias"] and len(args) > 1:
        command = args[1:]
        if command[0] == "--":
            command = command[1:]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (alias_path(), env.get("PYTHONPATH")) if p)
        try:
            os.execvpe(command[0], command, env)
        except OSError as exc:
            print(f"wakelog: cannot run {command[0]!r}: {exc}", file=sys.stderr)
            return 127
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
