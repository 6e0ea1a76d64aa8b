"""The change log of a rebuild: which printed values moved and which statements flipped.

A document's `figures.json` records every figure and generated statement it prints. When a data
update rebuilds the document, the old record is compared with the new one: a value whose printed
text changed has moved; a statement whose direction or position against the peers (better, worse,
similar) changed has flipped, which is what a reader must re-check.

A statement's `trend` is the direction (rising, falling, stable) of the change its sentence prints,
the verb the reader sees; the record's `change` is that change (`compute.Change`). Nothing here
recomputes a change or a direction: the records are compared as written.

Every kind of document is compared the same way: a brief's key figures, table cells, sentences and
chart labels (keyed by indicator, section and form), the annex's ranks, index values and ranges
(keyed by country and form of security: "Belarus: rank 2 → 4"). A value recorded with the year of
its observation reports a latest year that moved as well ("5.1% (2018) → 2.9% (2025)"). An
implementation report's outcomes say which member States now count or no longer do, and why
("3e.1 (2002-2003): 0 → 1 member States; Russian Federation now counts — meeting recorded on …").
"""

from __future__ import annotations

import json
from pathlib import Path

#: the fields that tell a document's figures apart (a figure is printed once under them)
KEY = ("indicator", "what", "section", "iso3", "form", "node", "chart", "block", "cluster")


def _key(entry: dict) -> tuple:
    return tuple(entry.get(f) for f in KEY)


def _moved(prior: dict, entry: dict) -> dict | None:
    """The change of one printed figure (its text, or the year of the observation it shows)."""
    years = (prior.get("year"), entry.get("year"))
    if prior.get("text") == entry.get("text") and years[0] == years[1]:
        return None
    moved = {"indicator": entry.get("indicator"), "what": entry.get("what"), "section": entry.get("section"),
             "before": prior.get("text"), "after": entry.get("text"),
             "source": (entry.get("observation") or {}).get("file")}
    if years[0] != years[1]:
        moved["year"] = list(years)
    for field in ("country", "form", "iso3"):
        if isinstance(entry.get(field), str):
            moved[field] = entry[field]
    return moved


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
        elif (change := _moved(prior, entry)) is not None:
            moved.append(change)
    vanished = list(before.values())
    return {"moved": moved, "flipped": flipped, "appeared": len(appeared), "vanished": len(vanished),
            "statuses": status_changes(old, new), "outcomes": outcome_changes(old, new)}


def status_changes(old: list[dict], new: list[dict]) -> list[dict]:
    """Indicators of a monitoring framework (a strategy input's "monitoring status" records) whose
    status changed: on track, off track, no new data since the baseline, no data for the baseline."""
    def statuses(entries: list[dict]) -> dict[tuple, dict]:
        return {(e.get("indicator"), e.get("section")): e for e in entries if e.get("what") == "monitoring status"}

    before = statuses(old)
    return [{"indicator": key[0], "section": key[1], "before": before[key].get("status"), "after": entry.get("status"),
             "text": [before[key].get("text"), entry.get("text")]}
            for key, entry in statuses(new).items()
            if key in before and before[key].get("status") != entry.get("status")]


def outcome_changes(old: list[dict], new: list[dict]) -> list[dict]:
    """Indicators of an implementation report ("outcome" records) whose count of member States or
    whose members changed, each member State that now counts or no longer does named with the reason
    the rule recorded, and the member States that joined or dropped out of "data generated"."""
    def outcomes(entries: list[dict]) -> dict[tuple, dict]:
        return {(e.get("indicator"), e.get("section")): e for e in entries if e.get("what") == "outcome"}

    before, out = outcomes(old), []
    for key, entry in outcomes(new).items():
        prior = before.get(key)
        if prior is None:
            continue
        names = {**prior.get("names", {}), **entry.get("names", {})}
        was, now = prior.get("counted", {}), entry.get("counted", {})
        gen_was, gen_now = set(prior.get("data_generated", [])), set(entry.get("data_generated", []))
        if prior.get("value") == entry.get("value") and set(was) == set(now) and gen_was == gen_now:
            continue
        out.append({"indicator": key[0], "section": key[1], "before": prior.get("value"), "after": entry.get("value"),
                    "joined": [{"iso3": c, "country": names.get(c, c), "why": now[c]}
                               for c in sorted(set(now) - set(was))],
                    "left": [{"iso3": c, "country": names.get(c, c), "why": entry.get("near", {}).get(c, "")}
                             for c in sorted(set(was) - set(now))],
                    "data_generated": [len(gen_was), len(gen_now)],
                    "data_joined": sorted(names.get(c, c) for c in gen_now - gen_was),
                    "data_left": sorted(names.get(c, c) for c in gen_was - gen_now)})
    return out


def outcome_line(c: dict) -> str:
    """"3e.1 (2002-2003): 0 → 1 member States; Russian Federation now counts — meeting recorded on 2002-05 …"."""
    text = f"{c['indicator']} ({c['section']}): {c['before']} → {c['after']} member States"
    text += "".join(f"; {j['country']} now counts — {j['why']}" for j in c["joined"])
    text += "".join(f"; {j['country']} no longer counts" + (f" — {j['why']}" if j["why"] else "") for j in c["left"])
    a, b = c["data_generated"]
    if a != b or c["data_joined"] or c["data_left"]:
        text += f"; data generated: {a} → {b} member States"
        if c["data_left"]:
            text += f" ({', '.join(c['data_left'])} dropped out)"
        if c["data_joined"]:
            text += f" ({', '.join(c['data_joined'])} joined)"
    return text


def load_figures(path: Path) -> list[dict] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def moved_line(m: dict) -> str:
    """One moved figure as the change log prints it: "gini, table value: 33.0 (2021) → 33.0 (2023)",
    "Belarus: rank 2 → 4", "Belarus, job: form value 0.71 → 0.69"."""
    before, after = m["before"], m["after"]
    if "year" in m:
        before, after = f"{before} ({m['year'][0]})", f"{after} ({m['year'][1]})"
    if m.get("country"):
        where = m["country"] + (f", {m['form']}" if m.get("form") else "")
        return f"{where}: {m['what']} {before} → {after}"
    where = m["indicator"] or m.get("form")
    return f"{where}, {m['what']}: {before} → {after}" if where else f"{m['what']}: {before} → {after}"


def markdown(changes: dict[str, dict], as_of: str) -> str:
    """A readable change log for the documents rebuilt by one run."""
    lines = [f"# Changes in the documents rebuilt on {as_of}", ""]
    for doc, diff in sorted(changes.items()):
        if not diff["moved"] and not diff["flipped"] and not diff.get("outcomes"):
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
        if diff.get("outcomes"):
            lines.append("Outcomes that moved:")
            lines.append("")
            lines += [f"- {outcome_line(c)}" for c in diff["outcomes"]]
            lines.append("")
        if diff.get("statuses"):
            lines.append("Monitoring statuses that changed:")
            lines.append("")
            lines += [f"- **{c['indicator']}** ({c['section']}): {c['before'].replace('_', ' ')} → "
                      f"{c['after'].replace('_', ' ')}" for c in diff["statuses"]]
            lines.append("")
        if diff["moved"]:
            lines.append("Values that moved:")
            lines.append("")
            lines += [f"- {moved_line(m)}" for m in diff["moved"]]
            lines.append("")
    if len(lines) == 2:
        lines.append("No printed value or statement changed.")
    return "\n".join(lines).rstrip() + "\n"
