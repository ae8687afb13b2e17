"""A user's workspace layout checked before it is stored (``PUT …/workspace``).

The layout is the user's own JSON object. Its older fields (``removed``, ``added``, ``sizes``) and
fields other parts of the app add are kept as they are; the panel system's two fields are checked
here because the workspace draws them: ``sections`` (``[{id, name, collapsed}]``, the user's own
sections in order) and ``panels`` (``[{id, kind, title, config, section, size}]``, in order). A
panel is a report panel (``spec.check_panel``: the same kinds and config checks) plus where it
sits: its section's id (``null``: the default section) and its size. A refusal is a 422 whose
message names the field; nothing is stored unless all of it is right.
"""

from __future__ import annotations

from typing import Any

from wakelog.server.errors import InvalidRequest, ValidationFailed
from wakelog.server.reports.spec import MAX_NAME, Ids, check_panel

MAX_SECTIONS = 50
MAX_PANELS = 200
SIZES = ("s", "m", "l")


def check_layout(layout: dict[str, Any]) -> dict[str, Any]:
    """The layout as stored (each panel's defaults filled in), or a 422 naming the field."""
    try:
        return _check(layout)
    except InvalidRequest as exc:
        raise ValidationFailed(f"layout: {str(exc.detail).removeprefix('spec: ')}") from None


def _check(layout: dict[str, Any]) -> dict[str, Any]:
    out = dict(layout)
    ids = Ids()
    if "sections" in layout:
        out["sections"] = [
            _section(item, i, ids)
            for i, item in enumerate(_list(layout["sections"], "sections", MAX_SECTIONS))
        ]
    section_ids = {s["id"] for s in out.get("sections", [])}
    if "panels" in layout:
        out["panels"] = [
            _panel(item, i, ids, section_ids)
            for i, item in enumerate(_list(layout["panels"], "panels", MAX_PANELS))
        ]
    return out


def _list(value: Any, field: str, limit: int) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidRequest(f"{field} must be a list")
    if len(value) > limit:
        raise InvalidRequest(f"{field} has {len(value)} items, over the {limit} allowed")
    return value


def _section(value: Any, index: int, ids: Ids) -> dict[str, Any]:
    where = f"sections[{index}]"
    if not isinstance(value, dict):
        raise InvalidRequest(f"{where} must be an object")
    unknown = sorted(set(value) - {"id", "name", "collapsed"})
    if unknown:
        raise InvalidRequest(f"{where}: unknown field {unknown[0]!r} (allowed: collapsed, id, name)")
    name = value.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidRequest(f"{where} name must be 1-{MAX_NAME} characters")
    collapsed = value.get("collapsed", False)
    if not isinstance(collapsed, bool):
        raise InvalidRequest(f"{where} collapsed must be true or false")
    return {"id": ids.take(value.get("id"), where), "name": name, "collapsed": collapsed}


def _panel(value: Any, index: int, ids: Ids, section_ids: set[str]) -> dict[str, Any]:
    where = f"panels[{index}]"
    if not isinstance(value, dict):
        raise InvalidRequest(f"{where} must be an object")
    section = value.get("section")
    if section is not None and section not in section_ids:
        raise InvalidRequest(f"{where} section {section!r} is not one of the layout's sections")
    size = value.get("size", "m")
    if size not in SIZES:
        raise InvalidRequest(f"{where} size must be one of {', '.join(SIZES)}")
    panel = {k: v for k, v in value.items() if k not in ("section", "size")}
    return {**check_panel(panel, where, ids), "section": section, "size": size}
