"""What changed between two revisions of a report, block by block (blocks are matched by id).

A block only in the newer revision is ``added``, only in the older ``removed``; one in both whose
content differs is ``changed``; one whose content is the same but whose place among the blocks
both revisions share changed is ``moved``. The blocks that stay in place are the longest common
subsequence of the shared ids, so moving one block marks that block, not every block it passed.
"""

from __future__ import annotations

from typing import Any


def _in_place(before: list[str], after: list[str]) -> set[str]:
    """The ids of the longest common subsequence of ``before`` and ``after`` (≤ 200 each)."""
    rows, cols = len(before), len(after)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1 if before[i] == after[j] else max(table[i + 1][j], table[i][j + 1])
            )
    kept, i, j = set(), 0, 0
    while i < rows and j < cols:
        if before[i] == after[j]:
            kept.add(before[i])
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return kept


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{changes, title}`` between two revisions (each ``{title, spec}``): changes in the newer
    revision's order, removed blocks last; ``title`` is ``{before, after}`` or None if the same."""
    old = {b["id"]: b for b in before["spec"]["blocks"]}
    new = {b["id"]: b for b in after["spec"]["blocks"]}
    shared_old = [i for i in old if i in new]
    shared_new = [i for i in new if i in old]
    in_place = _in_place(shared_old, shared_new)
    changes: list[dict[str, Any]] = []
    for block_id, block in new.items():
        if block_id not in old:
            change = "added"
        elif old[block_id] != block:
            change = "changed"
        elif block_id not in in_place:
            change = "moved"
        else:
            continue
        changes.append({"block_id": block_id, "change": change, "before": old.get(block_id), "after": block})
    changes += [
        {"block_id": block_id, "change": "removed", "before": block, "after": None}
        for block_id, block in old.items()
        if block_id not in new
    ]
    title = (
        None if before["title"] == after["title"] else {"before": before["title"], "after": after["title"]}
    )
    return {"changes": changes, "title": title}
