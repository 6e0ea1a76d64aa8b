"""The frozen outcome of an index computation, with small accessors for briefs and the annex."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from ..catalog import FORMS
from .config import KINDS

if TYPE_CHECKING:
    from .audit import Audit
    from .config import IndexSpec
    from .sensitivity import SensitivityResult

T = TypeVar("T")

OK = "ok"
INSUFFICIENT = "insufficient data"


@dataclass(frozen=True)
class IndexResult:
    """Per-country values of every node of one index for one reference year.

    Node ids (columns of `values`, `status`, `ranks`): ``overall``; ``overall.input``,
    ``overall.process``, ``overall.outcome`` (sub-indexes across forms); each form
    (``labour_market`` …); each form's sub-indexes (``labour_market.outcome`` …). Values are on the
    scale of the normalisation (0–1 for min-max, rank and distance-to-target; z-scores otherwise);
    higher always means more security.
    """

    index_id: str
    label: dict[str, str]
    reference_year: int
    countries: tuple[str, ...]  # every country considered, ISO3 order
    values: pd.DataFrame  # iso3 × node id, float, NaN where insufficient data
    status: pd.DataFrame  # iso3 × node id: "ok" or "insufficient data"
    ranks: pd.DataFrame  # iso3 × node id, Int64, 1 = most secure, <NA> where insufficient
    scores: pd.DataFrame  # iso3 × indicator: normalised score (NaN where not used)
    coverage: pd.DataFrame  # iso3: indicators_available, indicators_total, share, forms_available, forms_total
    inputs: pd.DataFrame  # one row per (iso3, indicator) value found: year, value, provenance, used, score, flags
    # iso3, indicator, kind (imputed|winsorised|clipped|excluded|outside_window), year, original, used, note
    flags: pd.DataFrame
    clusters: pd.Series  # iso3 → pacesetters | pragmatists | conventionals | much_to_be_done | None
    method: dict[str, Any]  # what was done, generated from the config and the run (see describe.py)
    spec: IndexSpec
    sensitivity: SensitivityResult | None = None
    audit: Audit | None = None

    # -------------------------------------------------------------------- accessors

    @property
    def node_ids(self) -> list[str]:
        return list(self.values.columns)

    def ok(self, node: str = "overall") -> pd.Series:
        return self.status[node] == OK

    def covered(self, node: str = "overall") -> tuple[str, ...]:
        """Countries with a value for the node."""
        return tuple(self.values.index[self.ok(node)])

    def n_ranked(self, node: str = "overall") -> int:
        return self.memo(("n_ranked", node), lambda: int(self.ok(node).sum()))

    def memo(self, key: tuple, make: Callable[[], T]) -> T:
        """`make()`, worked out once per key for this result and kept with it (never pickled): for
        what every brief of a batch would otherwise work out again from the same index."""
        memo = self.__dict__.setdefault("_memo", {})  # the dataclass is frozen; its values never change
        if key not in memo:
            memo[key] = make()
        return memo[key]

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "_memo"}

    def with_sensitivity(self, sensitivity: SensitivityResult) -> IndexResult:
        return replace(self, sensitivity=sensitivity)

    def with_audit(self, audit: Audit) -> IndexResult:
        return replace(self, audit=audit)

    def country(self, iso3: str) -> dict[str, Any]:
        """Everything a brief prints about one country, as plain values."""
        def node(nid: str) -> dict[str, Any]:
            value = self.values.at[iso3, nid]
            rank = self.ranks.at[iso3, nid]
            return {"value": None if math.isnan(value) else float(value), "status": self.status.at[iso3, nid],
                    "rank": None if pd.isna(rank) else int(rank), "of": self.n_ranked(nid)}

        out: dict[str, Any] = {
            "iso3": iso3,
            "reference_year": self.reference_year,
            "overall": node("overall"),
            "sub_indexes": {k: node(f"overall.{k}") for k in KINDS},
            "forms": {f: node(f) for f in FORMS},
            "form_sub_indexes": {c: node(c) for c in self.values.columns if "." in c and not c.startswith("overall.")},
            "cluster": self.clusters.get(iso3),
            "coverage": {col: _plain(self.coverage.at[iso3, col]) for col in self.coverage.columns},
            "flags": self.flags[self.flags["iso3"] == iso3].drop(columns="iso3").to_dict("records"),
        }
        if self.sensitivity is not None:
            out["rank_interval"] = self.sensitivity.country(iso3)
        return out

    def leaves_of(self, node: str = "overall") -> tuple[str, ...]:
        """The indicators a node aggregates: all for ``overall``, a kind's across forms for
        ``overall.<kind>``, a form's, or a sub-index's."""
        def under(leaf) -> bool:
            if node == "overall":
                return True
            if node.startswith("overall."):
                return leaf.kind == node.partition(".")[2]
            return leaf.form == node or leaf.parent == node

        return tuple(leaf.code for leaf in self.spec.leaves if under(leaf))

    def evidence(self, iso3: str, node: str = "overall") -> list[dict[str, Any]]:
        """The published values one country's value of a node rests on: each input the index used
        (indicator, year, value, source, vintage, file, line), in the order of `inputs`."""
        leaves = self.memo(("leaves", node), lambda: frozenset(self.leaves_of(node)))
        used = self.memo(("evidence",), self._evidence)
        return [dict(e) for indicator, e in used.get(iso3, ()) if indicator in leaves]

    def _evidence(self) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """Per country, each input the index used, with its indicator (see `evidence`)."""
        out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        used = self.inputs[self.inputs["in_index"].astype(bool)]
        for r in used.itertuples(index=False):
            iso3 = str(r.iso3)
            out.setdefault(iso3, []).append((str(r.indicator), {
                "indicator": str(r.indicator), "iso3": iso3, "year": int(r.year), "value": float(r.value),
                "source": str(r.source_id), "vintage": str(r.vintage), "file": str(r.file), "line": int(r.line)}))
        return out

    def table(self) -> pd.DataFrame:
        """One row per country: overall value, rank, interval, forms, cluster, coverage (the annex table)."""
        df = pd.DataFrame(index=self.values.index)
        df["overall"] = self.values["overall"]
        df["rank"] = self.ranks["overall"]
        if self.sensitivity is not None:
            s = self.sensitivity
            df["rank_median"] = s.median_rank.reindex(df.index)
            df["rank_p05"] = s.rank_p05.reindex(df.index)
            df["rank_p95"] = s.rank_p95.reindex(df.index)
        for kind in KINDS:
            df[f"overall.{kind}"] = self.values[f"overall.{kind}"]
        for form in FORMS:
            df[form] = self.values[form]
        df["cluster"] = self.clusters
        df["coverage"] = self.coverage["share"]
        df["forms_available"] = self.coverage["forms_available"]
        df["status"] = self.status["overall"]
        return df


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
