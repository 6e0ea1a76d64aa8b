"""Figure records: every number a document prints, with what it rests on.

In: the text as printed and the observations (`compute.Obs`), peer statistics (`compute.PeerStats`),
index inputs (`IndexResult.evidence`) or configuration lines behind it. Out: plain JSON-able dicts,
the entries of a document's `figures.json` (also attached to its PDF), which the change log compares.

Every record has `what` (what kind of figure) and `text` (exactly as printed), and one trace:

- `observation`: the published value it shows (iso3, year, value, source, vintage, file, line);
- `observations`: the published values it is computed from, e.g. the two ends of a change;
- `peers`: every peer's observation behind a peer statistic (median, range); a rank has
  `country_observation` beside them (the ranked values are the peers' and the country's own);
- `inputs`: the published values an index value rests on; an index rank adds `ranked` (the value of
  every ranked country, each traced in the annex's figures), a peer median of index values has
  `peers` with each peer's value and inputs; `inputs_of` names the country whose "index inputs"
  record lists them (the annex lists each country's inputs once, for all the figures of its row);
- `config`: the configuration file and line of a number set there (a threshold, a peer list);
- `parts`: for a text that prints several numbers (a sentence, a range), one record per number.

A document with several renderings (a strategy input's report and slides) writes a record once for
each time a rendering prints it, with `rendering` naming which.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from ..compute import Obs, PeerStats


def observed(what: str, text: str, obs: Obs, **extra: Any) -> dict[str, Any]:
    """A printed value or year that shows one published observation."""
    return {"what": what, "text": text, "observation": obs.ref(), **extra}


def computed(what: str, text: str, observations: list[Obs], **extra: Any) -> dict[str, Any]:
    """A printed number computed from several of the country's observations (a change)."""
    return {"what": what, "text": text, "observations": [o.ref() for o in observations], **extra}


def among_peers(what: str, text: str, peers: PeerStats, country: Obs | None = None, **extra: Any) -> dict[str, Any]:
    """A peer statistic (median, lowest, highest) or, with `country`, a rank among the peers."""
    entry: dict[str, Any] = {"what": what, "text": text, "peers": peers.refs(), **extra}
    if country is not None:
        entry["country_observation"] = country.ref()
    return entry


def configured(what: str, text: str, where: tuple[str, int | None], **extra: Any) -> dict[str, Any]:
    """A number set in the configuration: its file and line."""
    return {"what": what, "text": text, "config": {"file": where[0], "line": where[1]}, **extra}


def indexed(what: str, text: str, inputs: list[dict], **extra: Any) -> dict[str, Any]:
    """A number of a composite index: the published inputs it rests on."""
    return {"what": what, "text": text, "inputs": inputs, **extra}


def composed(what: str, text: str, parts: list[dict], **extra: Any) -> dict[str, Any]:
    """A text printing several numbers: one traced part per number."""
    return {"what": what, "text": text, "parts": parts, **extra}


def yaml_line(file: str, path: tuple) -> int | None:
    """The line of a key in a YAML configuration file (None when it is not written there)."""
    try:
        stat = os.stat(file)
        return _located(file, stat.st_mtime_ns, stat.st_size).line_of(path)
    except Exception:  # a file that cannot be read again here was read when the project was loaded
        return None


@functools.lru_cache(maxsize=16)
def _located(file: str, mtime_ns: int, size: int) -> Any:
    """The file read once for all the keys asked of it, again when it changes (`watch`)."""
    from ..yamlio import load_yaml

    return load_yaml(Path(file))
