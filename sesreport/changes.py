"""The change log of a rebuild: which printed values moved and which statements flipped.

A document's `figures.json` records every figure and generated statement it prints. When a data
update rebuilds the document, the old record is compared with the new one: a value whose printed
text changed has moved; a statement whose direction or position against the peers (better, worse,
similar) changed has flipped, which is what a reader must re-check.

A statement's `trend` is the direction (rising, falling, stable) of the change its sentence prints,
the verb the reader sees; the record's `change` is that change (`compute.Change`). Nothing here
recomputes a change or a direction: the records are compared as written.
"""

from __future__ import annotations

import json
from pathlib import Path


def _key(entry: dict) -> tuple:
    return (entry.get("indicator"), entry.get("what"), entry.get("section"))


def compare(old: list[dict], new: list[dict]) -> dict:
    """Moved values and flipped statements between two figure records of one document."""
    before = {_key(e): e for e in old}
    moved, flipped, appeared, vanished = [], [], [], []
    for entry in new:
        key = _key(entry)
        prior = before.pop(key, None)
        if prior is None:
            appeared.append(entry)
            continue
        if entry.get("what") == "statement":
            changes = {f: (prior.get(f), entry.get(f)) for f in ("trend", "position", "has_data", "stale")
                       if prior.get(f) != entry.get(f)}
            if "change" not in prior and prior.get("text") == entry.get("text"):
                # recorded before statements carried the change they print, when `trend` was the
                # five-year direction rather than the verb printed: the same sentence has not flipped
                changes.pop("trend", None)
            if changes:
                flipped.append({"indicator": key[0], "section": key[2], "changes": changes,
                                "before": prior.get("text"), "after": entry.get("text")})
        elif prior.get("text") != entry.get("text"):
            moved.append({"indicator": key[0], "what": key[1], "section": key[2],
                          "before": prior.get("text"), "after": entry.get("text"),
                          "source": (entry.get("observation") or {}).get("file")})
    vanished = list(before.values())
    return {"moved": moved, "flipped": flipped, "appeared": len(appeared), "vanished": len(vanished)}


def load_figures(path: Path) -> list[dict] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def markdown(changes: dict[str, dict], as_of: str) -> str:
    """A readable change log for the documents rebuilt by one run."""
    lines = [f"# Changes in the documents rebuilt on {as_of}", ""]
    for doc, diff in sorted(changes.items()):
        if not diff["moved"] and not diff["flipped"]:
            continue
        lines.append(f"## {doc}")
        lines.append("")
        if diff["flipped"]:
            lines.append("Statements that flipped:")
            lines.append("")
            for f in diff["flipped"]:
                what = ", ".join(f"{k} {a} → {b}" for k, (a, b) in f["changes"].items())
                lines.append(f"- **{f['indicator']}** ({what})")
                lines.append(f"  - before: {f['before']}")
                lines.append(f"  - after: {f['after']}")
            lines.append("")
        if diff["moved"]:
            lines.append("Values that moved:")
            lines.append("")
            for m in diff["moved"]:
                lines.append(f"- {m['indicator']}, {m['what']}: {m['before']} → {m['after']}")
            lines.append("")
    if len(lines) == 2:
        lines.append("No printed value or statement changed.")
    return "\n".join(lines).rstrip() + "\n"
