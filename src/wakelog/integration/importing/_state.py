"""``import.json`` in an import folder: how far the source was read and what the run log holds of it.

The cursor is saved (atomically) only right after the run log was flushed, with the log's size at
that moment. Records appended after the last save are not covered by it: the next import cuts the
log back to ``log_bytes`` and reads the source again from the cursor, so an import stopped at any
point neither loses nor repeats a record.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FILE = "import.json"


@dataclass
class ImportState:
    run_id: str
    log_bytes: int = 0  # the run log's size when this cursor was saved (0: no log yet)
    next_seq: int = 0
    start_time: float | None = None  # the run's start (its ``run`` record is written once it is known)
    last_time: float | None = None  # the latest wall time seen
    #: The source's own cursor (e.g. event file → records read), owned by the format's reader.
    source: dict[str, Any] = field(default_factory=dict)
    #: Per history key, the last step written: a value at this step or before is skipped (the
    #: server keeps one value per key and step, in step order).
    last_steps: dict[str, int] = field(default_factory=dict)
    #: Digests of the config, summary and metadata last written, so unchanged ones are not rewritten.
    digests: dict[str, str] = field(default_factory=dict)
    exit_state: str | None = None  # the state of the last exit record written

    @classmethod
    def load(cls, folder: Path, run_id: str) -> ImportState:
        try:
            data = json.loads((folder / FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(run_id)
        if not isinstance(data, dict) or data.get("run_id") != run_id:
            return cls(run_id)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, folder: Path) -> None:
        temp = folder / (FILE + ".tmp")
        temp.write_text(json.dumps(asdict(self)), encoding="utf-8")
        os.replace(temp, folder / FILE)
