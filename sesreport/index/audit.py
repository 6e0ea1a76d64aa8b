"""An index spec + its computed scores → the statistical audit (COIN, OECD/JRC Handbook, 2008): an :class:`Audit`.

What it checks, for a reader who must decide whether the index can be trusted:

- correlations: each indicator's score with the sub-index it belongs to, and every pair of
  indicators within a form (Pearson, pairwise complete countries); negative or near-zero ones
  (|r| < 0.1) are flagged: such an indicator pulls against, or apart from, the rest of its node;
- internal consistency per form: Cronbach's alpha, ``k/(k−1)·(1 − Σ var_i / var(Σ x_i))`` over the
  form's (non-supplementary) indicator scores of the countries with all of them (listwise), and
  the share of variance of the first principal component of their correlation matrix;
- leave one out: each indicator dropped in turn (coverage recomputed without it); the mean and
  largest absolute shift of the overall rank among countries ranked both ways, and how many
  countries lose or gain a rank;
- plausibility: the overall index against independent measures in the data (GDP per capita in
  logarithms, life expectancy), their correlation, and the countries whose rank differs most from
  the rank an ordinary least-squares fit on those measures predicts — for a human to review.

Pure: no I/O; the plausibility measures are passed in as series by ISO3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .compute import Prepared, evaluate, leaf_scores, node_status, rank_desc
from .config import IndexSpec

NEAR_ZERO = 0.1
MIN_COUNTRIES = 10
MOST_DIFFERENT = 10


@dataclass(frozen=True)
class Audit:
    correlations: pd.DataFrame  # node, a, b, r, n, flag ("negative" | "near zero" | "")
    forms: pd.DataFrame  # form: indicators, countries, alpha, pc1_share (NaN where too few countries)
    leave_one_out: pd.DataFrame  # indicator: mean_abs_shift, max_abs_shift, max_country, lost, gained
    plausibility: pd.DataFrame  # iso3: rank, predicted_rank, difference, and each measure
    measures: dict[str, dict[str, float]]  # measure: {"r": Pearson r with the index, "n": countries}

    def flagged(self) -> pd.DataFrame:
        return self.correlations[self.correlations["flag"] != ""]

    def table(self) -> pd.DataFrame:
        """Everything in one long table (section, node, item, iso3, statistic, value) for the export."""
        rows: list[tuple] = []
        for r in self.correlations.itertuples(index=False):
            rows.append(("correlation", r.node, f"{r.a} ~ {r.b}", "", "r", r.r))
            rows.append(("correlation", r.node, f"{r.a} ~ {r.b}", "", "n", r.n))
        for form, r in self.forms.iterrows():
            for stat in ("indicators", "countries", "alpha", "pc1_share"):
                rows.append(("consistency", form, "", "", stat, r[stat]))
        for code, r in self.leave_one_out.iterrows():
            for stat in ("mean_abs_shift", "max_abs_shift", "lost", "gained"):
                rows.append(("leave_one_out", "overall", code, r["max_country"] if stat == "max_abs_shift" else "",
                             stat, r[stat]))
        for name, m in self.measures.items():
            rows.append(("plausibility", "overall", name, "", "r", m["r"]))
            rows.append(("plausibility", "overall", name, "", "n", m["n"]))
        for iso3, r in self.plausibility.iterrows():
            for stat in ("rank", "predicted_rank", "difference"):
                rows.append(("plausibility", "overall", "", iso3, stat, r[stat]))
        out = pd.DataFrame(rows, columns=["section", "node", "item", "iso3", "statistic", "value"])
        out["value"] = pd.to_numeric(out["value"], errors="coerce").round(4)
        return out


def cronbach_alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of the columns of a complete (countries × items) array (sample variances)."""
    k = x.shape[1]
    if k < 2 or x.shape[0] < 2:
        return math.nan
    total = x.sum(axis=1).var(ddof=1)
    if total == 0:
        return math.nan
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total))


def pc1_share(x: np.ndarray) -> float:
    """Share of the total variance the first principal component of the correlation matrix carries."""
    sd = x.std(axis=0)
    if x.shape[1] < 2 or (sd == 0).any():
        return math.nan
    eig = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))
    return float(eig[-1] / eig.sum())


def _pearson(a: pd.Series, b: pd.Series) -> tuple[float, int]:
    both = a.notna() & b.notna()
    n = int(both.sum())
    if n < 3 or a[both].std() == 0 or b[both].std() == 0:
        return math.nan, n
    return float(np.corrcoef(a[both], b[both])[0, 1]), n


def _flag(r: float) -> str:
    if math.isnan(r):
        return ""
    return "negative" if r < -NEAR_ZERO else ("near zero" if abs(r) < NEAR_ZERO else "")


def correlations(spec: IndexSpec, scores: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for leaf in spec.leaves:
        r, n = _pearson(scores[leaf.code], values[leaf.parent])
        rows.append((leaf.parent, leaf.code, leaf.parent, r, n, _flag(r)))
    for form in spec.forms:
        codes = [leaf.code for leaf in spec.leaves if leaf.form == form]
        for i, a in enumerate(codes):
            for b in codes[i + 1:]:
                r, n = _pearson(scores[a], scores[b])
                rows.append((form, a, b, r, n, _flag(r)))
    return pd.DataFrame(rows, columns=["node", "a", "b", "r", "n", "flag"])


def consistency(spec: IndexSpec, scores: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for form in spec.forms:
        codes = [leaf.code for leaf in spec.leaves if leaf.form == form and not leaf.supplementary]
        if len(codes) < 2:
            continue
        complete = scores[codes].dropna().to_numpy()
        n = complete.shape[0]
        enough = n >= MIN_COUNTRIES
        rows[form] = {"indicators": len(codes), "countries": n,
                      "alpha": cronbach_alpha(complete) if enough else math.nan,
                      "pc1_share": pc1_share(complete) if enough else math.nan}
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["indicators", "countries", "alpha", "pc1_share"])


def leave_one_out(spec: IndexSpec, prepared: Prepared) -> pd.DataFrame:
    plan = prepared.plan
    leaves = leaf_scores(spec, prepared.latest)
    j_overall = len(plan.leaves) + plan.index("overall")

    def overall_ranks(avail: np.ndarray) -> np.ndarray:
        status = node_status(plan, avail)
        values = evaluate(plan, leaves, status).values[0][:, plan.index("overall")]
        return rank_desc(np.where(status[:, j_overall], values, np.nan))

    base = overall_ranks(leaves.avail)
    rows = {}
    for j, code in enumerate(plan.leaves):
        avail = leaves.avail.copy()
        avail[:, j] = False
        ranks = overall_ranks(avail)
        both = ~np.isnan(base) & ~np.isnan(ranks)
        # ranks among the countries ranked both ways, so that entries and exits do not shift everyone
        shift = np.abs(rank_desc(np.where(both, ranks, np.nan)) - rank_desc(np.where(both, base, np.nan)))[both]
        worst = int(np.argmax(np.where(both, np.abs(ranks - base), -1))) if both.any() else None
        rows[code] = {"mean_abs_shift": float(shift.mean()) if len(shift) else math.nan,
                      "max_abs_shift": float(shift.max()) if len(shift) else math.nan,
                      "max_country": prepared.latest.countries[worst] if worst is not None else "",
                      "lost": int((~np.isnan(base) & np.isnan(ranks)).sum()),
                      "gained": int((np.isnan(base) & ~np.isnan(ranks)).sum())}
    return pd.DataFrame.from_dict(rows, orient="index")


def plausibility(overall: pd.Series, measures: Mapping[str, pd.Series]) -> tuple[pd.DataFrame, dict]:
    """OLS of the index on the measures (money amounts in logs); ranks of the fit against the published ranks."""
    ranked = overall.dropna()
    frame = pd.DataFrame({name: s.reindex(ranked.index) for name, s in measures.items()})
    stats = {name: dict(zip(("r", "n"), _pearson(ranked, frame[name]))) for name in frame.columns}
    complete = frame.dropna()
    y = ranked.reindex(complete.index)
    cols = list(complete.columns)
    if len(complete) < MIN_COUNTRIES or not cols:
        return pd.DataFrame(columns=["rank", "predicted_rank", "difference", *cols]), stats
    x = np.column_stack([np.ones(len(complete)), complete.to_numpy()])
    beta, *_ = np.linalg.lstsq(x, y.to_numpy(), rcond=None)
    fitted = x @ beta
    out = complete.copy()
    out["rank"] = rank_desc(y.to_numpy()).astype(int)
    out["predicted_rank"] = rank_desc(fitted).astype(int)
    out["difference"] = out["rank"] - out["predicted_rank"]
    out = out.reindex(out["difference"].abs().sort_values(ascending=False, kind="stable").index)
    stats["fit"] = {"r": float(np.corrcoef(fitted, y)[0, 1]), "n": len(complete)}
    return out[["rank", "predicted_rank", "difference", *cols]], stats


def run_audit(spec: IndexSpec, prepared: Prepared, scores: pd.DataFrame, values: pd.DataFrame,
              measures: Mapping[str, pd.Series]) -> Audit:
    plaus, stats = plausibility(values["overall"], measures)
    return Audit(correlations=correlations(spec, scores, values), forms=consistency(spec, scores),
                 leave_one_out=leave_one_out(spec, prepared), plausibility=plaus, measures=stats)
