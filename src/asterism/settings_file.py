"""Write settings into ``asterism.toml`` without losing the ones already there.

Commands that choose a setting for the user (``asterism eval tune``,
``asterism models pull --use``) merge their values into the file rather than
rewrite it, so a hand-written ``[store]`` or ``[http]`` survives. The standard
library reads TOML but does not write it, and the settings are plain data
(scalars, lists, nested tables), so a small writer is enough; it does not keep
comments or the original layout.
"""

from __future__ import annotations

import json
import re
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def update_settings_file(path: Path, section: str, values: dict[str, Any]) -> Path:
    """Merge ``values`` into the table ``section`` (dotted for nested, e.g. ``"http.host_rates"``) of ``path``.

    Other tables and keys are kept; a value of ``None`` removes its key (TOML
    has no null). The file is replaced in one rename, so a reader never sees
    half of it.
    """
    path = Path(path)
    data: dict[str, Any] = tomllib.loads(path.read_text()) if path.is_file() else {}
    table = data
    for part in section.split("."):
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {section} is a value, not a table")
    for key, value in values.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(toml(data))
    partial.replace(path)
    return path


def toml(data: dict[str, Any], prefix: str = "") -> str:
    """TOML text for settings: scalars and lists first, then one ``[table]`` per nested dict."""
    lines = [f"{_key(key)} = {_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            name = f"{prefix}{_key(key)}"
            lines += ["", f"[{name}]", toml(value, f"{name}.").strip()]
    return "\n".join(lines).strip() + "\n"


def _key(key: str) -> str:
    """Bare keys as they are; anything else quoted (``"api.artic.edu"`` is one key, not three)."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # inf and nan are TOML too
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    return json.dumps(str(value), ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
