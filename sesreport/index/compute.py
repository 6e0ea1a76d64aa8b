"""Headline series + an :class:`IndexSpec` → an :class:`IndexResult`: every node's value, status, rank, cluster.

Pure functions, no I/O. The steps, in order:

1. for each indicator and country, the value of the reference year, else the latest one within the
   declared window before it (flagged as imputed); later years are never used;
2. per indicator: transform, winsorise (capped values flagged), normalise, invert lower-is-better;
3. bottom-up through the tree: a node with too few children with data is "insufficient data" (NaN),
   otherwise the weighted mean of its available children (weights renormalised over them);
4. ranks (1 = most secure), coverage, clusters, and the method actually used.

Countries are processed in ISO3 order whatever the order of the input rows, so results are
deterministic and independent of row order. The same engine evaluates many Monte Carlo draws at
once (:mod:`.sensitivity`): arrays carry a leading "draw" axis.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..catalog import FORMS
from ..errors import Problem, UserError
from .aggregate import aggregate, coverage_ok, normalise_weights, pca_weights
from .clusters import assign_clusters
from .config import KINDS, IndexSpec, LeafSpec, NodeSpec, Normalisation
from .normalise import UNIT, Z, clipped_by_goalposts, normalise, transform, untransform, winsorise
from .result import INSUFFICIENT, OK, IndexResult

PROVENANCE = ("source_id", "vintage", "file", "line")


# ------------------------------------------------------------------------------------------------
# 1. Values at the reference year


@dataclass(frozen=True)
class Latest:
    """For each country (rows, ISO3 order) and indicator (columns, spec order): the latest value up to
    the reference year and its year (NaN where none), with provenance columns in long form."""

    countries: tuple[str, ...]
    codes: tuple[str, ...]
    reference_year: int
    values: np.ndarray  # (C, L)
    years: np.ndarray  # (C, L), NaN where no value
    provenance: dict[str, np.ndarray]  # per (C, L) cell with a value: source_id, vintage, file, line (object arrays)
    duplicates: int = 0


def headline_frames(data, codes: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The per-indicator series from a Dataset (its `headline`) or a mapping indicator → DataFrame."""
    if hasattr(data, "headline"):
        return {code: data.headline(code) for code in codes}
    return {code: data.get(code, _EMPTY) for code in codes}


_EMPTY = pd.DataFrame({"iso3": pd.Series(dtype=str), "year": pd.Series(dtype="int64"),
                       "value": pd.Series(dtype=float)})


def default_countries(data, frames: Mapping[str, pd.DataFrame]) -> tuple[str, ...]:
    countries = getattr(data, "countries", None)
    if countries is not None and hasattr(countries, "table"):
        return tuple(sorted(countries.table.index.astype(str)))
    found: set[str] = set()
    for frame in frames.values():
        found.update(frame["iso3"].astype(str))
    return tuple(sorted(found))


def latest_values(frames: Mapping[str, pd.DataFrame], codes: tuple[str, ...], countries: tuple[str, ...],
                  reference_year: int) -> Latest:
    index = pd.Index(countries)
    shape = (len(countries), len(codes))
    values = np.full(shape, np.nan)
    years = np.full(shape, np.nan)
    provenance = {c: np.full(shape, None, dtype=object) for c in PROVENANCE}
    duplicates = 0
    for j, code in enumerate(codes):
        df = frames.get(code, _EMPTY)
        if not len(df):
            continue
        pos = index.get_indexer(df["iso3"].astype(str))
        year = df["year"].to_numpy(dtype=float)
        value = df["value"].to_numpy(dtype=float)
        keep = np.flatnonzero((pos >= 0) & (year <= reference_year) & ~np.isnan(value))
        if not len(keep):
            continue
        # one value per country: the latest year; an (unexpected) duplicate year is settled by the
        # value, never by row order
        order = keep[np.lexsort((value[keep], year[keep], pos[keep]))]
        p_sorted, y_sorted = pos[order], year[order]
        last = np.r_[p_sorted[1:] != p_sorted[:-1], True]
        duplicates += int((~last[:-1] & (y_sorted[1:] == y_sorted[:-1])).sum())
        rows = order[last]
        values[pos[rows], j] = value[rows]
        years[pos[rows], j] = year[rows]
        for col in PROVENANCE:
            if col in df.columns:
                provenance[col][pos[rows], j] = df[col].to_numpy()[rows]
    return Latest(countries, codes, reference_year, values, years, provenance, duplicates)


# ------------------------------------------------------------------------------------------------
# 2. Indicator scores


@dataclass(frozen=True)
class LeafScores:
    scores: np.ndarray  # (C, L) normalised, NaN where unavailable
    avail: np.ndarray  # (C, L) bool
    used: np.ndarray  # (C, L) value entering normalisation, in the indicator's unit (after capping)
    imputed: np.ndarray  # (C, L) bool: value from before the reference year
    capped: np.ndarray  # (C, L) bool: winsorised
    clipped: np.ndarray  # (C, L) bool: beyond declared goalposts
    goalpost: np.ndarray  # (C, L) goalpost value used for clipped values
    excluded: np.ndarray  # (C, L) bool: the transform could not take the value
    too_old: np.ndarray  # (C, L) bool: a value exists but is older than the window
    scale: tuple[str, ...]  # per leaf: 'unit' or 'z'
    windows: tuple[int, ...]
    norms: tuple[Normalisation, ...]
    params: tuple[dict, ...]  # per leaf, for the method description


def effective_norm(leaf: LeafSpec, override: str | None) -> Normalisation:
    """The normalisation for one leaf under a sensitivity alternative ('minmax' keeps declared goalposts)."""
    if override in (None, "declared"):
        return leaf.normalisation
    if override == "minmax" and leaf.normalisation.method == "minmax":
        return leaf.normalisation
    return Normalisation(method=override)


def leaf_scores(spec: IndexSpec, latest: Latest, norm_override: str | None = None,
                window_override: int | None = None) -> LeafScores:
    c, n_leaves = latest.values.shape
    out = {name: np.zeros((c, n_leaves), dtype=bool)
           for name in ("avail", "imputed", "capped", "clipped", "excluded", "too_old")}
    scores = np.full((c, n_leaves), np.nan)
    used = np.full((c, n_leaves), np.nan)
    goalpost = np.full((c, n_leaves), np.nan)
    scales, windows, norms, params = [], [], [], []
    ref = latest.reference_year
    for j, leaf in enumerate(spec.leaves):
        window = leaf.window if window_override in (None, "declared") else int(window_override)
        norm = effective_norm(leaf, norm_override)
        raw = latest.values[:, j]
        age = ref - latest.years[:, j]
        present = ~np.isnan(raw)
        in_window = present & (age <= window)
        x = np.where(in_window, raw, np.nan)
        x, bad = transform(x, leaf.transform)
        p: dict = {}
        capped = np.zeros(c, dtype=bool)
        if leaf.winsorise is not None:
            before = x
            x, lo, hi = winsorise(x, *leaf.winsorise)
            capped = ~np.isnan(before) & (x != before)
            p["winsorise"] = {"lower": leaf.winsorise[0], "upper": leaf.winsorise[1],
                              "low_cap": untransform(lo, leaf.transform), "high_cap": untransform(hi, leaf.transform),
                              "capped": int(capped.sum())}
        clipped, gp = clipped_by_goalposts(x, norm, leaf.transform)
        s, scale, np_params = normalise(x, norm, leaf.direction == "higher_better", leaf.transform)
        avail = ~np.isnan(s)
        p.update(np_params)
        scores[:, j] = s
        used[:, j] = np.where(avail, _back(x, leaf.transform), np.nan)
        goalpost[:, j] = gp
        out["avail"][:, j] = avail
        out["imputed"][:, j] = avail & (age > 0)
        out["capped"][:, j] = avail & capped
        out["clipped"][:, j] = avail & clipped
        out["excluded"][:, j] = bad
        out["too_old"][:, j] = present & ~in_window
        scales.append(scale)
        windows.append(window)
        norms.append(norm)
        params.append(p)
    return LeafScores(scores=scores, used=used, goalpost=goalpost, scale=tuple(scales), windows=tuple(windows),
                      norms=tuple(norms), params=tuple(params), **out)


def _back(x: np.ndarray, how: str) -> np.ndarray:
    return np.exp(x) if how == "log" else x


# ------------------------------------------------------------------------------------------------
# 3. The tree


@dataclass(frozen=True)
class Plan:
    """The tree compiled to array positions: slot i < L is leaf i, slot L + j is node j."""

    leaves: tuple[str, ...]
    nodes: tuple[NodeSpec, ...]
    children: tuple[tuple[int, ...], ...]  # per node, slots of its children
    counted: tuple[tuple[int, ...], ...] = ()  # per node, the children its coverage rule counts
    beneath: tuple[tuple[int, ...], ...] = ()  # per node, the leaf slots beneath it that coverage counts

    @classmethod
    def of(cls, spec: IndexSpec) -> Plan:
        slot = {leaf.code: i for i, leaf in enumerate(spec.leaves)}
        n_leaves = len(spec.leaves)
        counts = [i for i, leaf in enumerate(spec.leaves) if not leaf.supplementary]
        under: dict[int, tuple[int, ...]] = {i: (i,) for i in counts}
        children, counted, beneath = [], [], []
        for j, node in enumerate(spec.nodes):
            kids = tuple(slot[ch] for ch in node.children if ch in slot)
            children.append(kids)
            counted.append(tuple(k for k in kids if k >= n_leaves or k in under))
            leaves = tuple(sorted({s for k in kids for s in under.get(k, ())}))
            beneath.append(leaves)
            slot[node.id] = n_leaves + j
            under[n_leaves + j] = leaves
        return cls(tuple(leaf.code for leaf in spec.leaves), spec.nodes, tuple(children), tuple(counted),
                   tuple(beneath))

    def index(self, node_id: str) -> int:
        return next(j for j, n in enumerate(self.nodes) if n.id == node_id)


def node_status(plan: Plan, leaf_avail: np.ndarray) -> np.ndarray:
    """(C, L + N) availability of every slot; nodes by their coverage rule (children counted, and the
    share of the indicators beneath, supplementary ones aside). Independent of weights."""
    c, n_leaves = leaf_avail.shape
    status = np.zeros((c, n_leaves + len(plan.nodes)), dtype=bool)
    status[:, :n_leaves] = leaf_avail
    for j, node in enumerate(plan.nodes):
        kids = list(plan.counted[j])
        ok = coverage_ok(status[:, kids], node.coverage.min_count, node.coverage.min_share)
        leaves = list(plan.beneath[j])
        if node.coverage.min_indicator_share > 0 and leaves:
            ok &= leaf_avail[:, leaves].sum(axis=1) + 1e-9 >= node.coverage.min_indicator_share * len(leaves)
        for other in node.requires:
            ok &= status[:, n_leaves + plan.index(other)]
        status[:, n_leaves + j] = ok
    return status


def base_weights(node: NodeSpec, children: tuple[int, ...], plan: Plan) -> np.ndarray:
    """Declared weights over the node's children, normalised to sum 1 (PCA is computed later, from data)."""
    names = [_slot_name(plan, s) for s in children]
    if node.weights.method == "explicit":
        raw = np.array([node.weights.values.get(n, 0.0) for n in names], dtype=float)
    else:
        raw = np.ones(len(names))
    return normalise_weights(raw)


def _slot_name(plan: Plan, slot: int) -> str:
    n_leaves = len(plan.leaves)
    return plan.leaves[slot] if slot < n_leaves else plan.nodes[slot - n_leaves].id


@dataclass(frozen=True)
class Evaluation:
    values: np.ndarray  # (D, C, N) node values, NaN where insufficient
    weights: tuple[np.ndarray, ...]  # per node, the base weights used (before any perturbation)
    weight_notes: tuple[str | None, ...]
    scales: tuple[str, ...]  # per node


def evaluate(plan: Plan, leaves: LeafScores, status: np.ndarray, aggregation: str | None = None,
             weights: tuple[np.ndarray, ...] | None = None, factors: np.ndarray | None = None) -> Evaluation:
    """Every node's value for D draws at once.

    `weights`: base weights per node (default: declared, PCA estimated here); `factors` (D, E): a
    multiplicative perturbation for each of the E = Σk edges, nodes in plan order; cross-form
    sub-indexes reuse the overall index's factor of each form so that a draw weighs a form alike."""
    c, n_leaves = leaves.scores.shape
    d = 1 if factors is None else factors.shape[0]
    n_nodes = len(plan.nodes)
    values = np.full((d, c, n_nodes), np.nan)
    scales: list[str] = []
    used_weights: list[np.ndarray] = []
    notes: list[str | None] = []
    offsets = np.cumsum([0] + [len(ch) for ch in plan.children])
    overall_j = plan.index("overall")
    leaf_vals = leaves.scores[None, :, :]

    def slot_values(slot: int) -> np.ndarray:
        return leaf_vals[:, :, slot] if slot < n_leaves else values[:, :, slot - n_leaves]

    def slot_scale(slot: int) -> str:
        return leaves.scale[slot] if slot < n_leaves else scales[slot - n_leaves]

    for j, node in enumerate(plan.nodes):
        kids = plan.children[j]
        k = len(kids)
        method = node.aggregation.method if aggregation in (None, "declared") else aggregation
        floor = node.aggregation.floor
        avail = status[:, list(kids)]
        if k:
            child_vals = np.stack([np.broadcast_to(slot_values(s), (d, c)) for s in kids], axis=2)
        else:
            child_vals = np.zeros((d, c, 0))
        z_children = np.array([slot_scale(s) == Z for s in kids], dtype=bool)
        note = None
        if weights is not None:
            w = weights[j]
        elif node.weights.method == "pca" and k:
            w, note = pca_weights(child_vals[0], avail)
        else:
            w = base_weights(node, kids, plan)
        used_weights.append(w)
        notes.append(note)
        if factors is None:
            wd = np.broadcast_to(w, (d, k))
        else:
            f = factors[:, offsets[j]:offsets[j + 1]]
            if node.kind == "overall_sub_index":
                forms = [_slot_name(plan, s).split(".")[0] for s in kids]
                o_names = [_slot_name(plan, s) for s in plan.children[overall_j]]
                f = factors[:, [offsets[overall_j] + o_names.index(fm) for fm in forms]] if k else f
            wd = normalise_weights(w[None, :] * f)
        if k:
            out = aggregate(child_vals, avail, wd, method, floor, z_children)
        else:
            out = np.full((d, c), np.nan)
        values[:, :, j] = np.where(status[None, :, n_leaves + j], out, np.nan)
        scales.append(UNIT if method == "geometric" or not z_children.any() else Z)
    return Evaluation(values, tuple(used_weights), tuple(notes), tuple(scales))


def n_edges(plan: Plan) -> int:
    return int(sum(len(ch) for ch in plan.children))


def rank_desc(values: np.ndarray) -> np.ndarray:
    """Ranks along the last axis, 1 = highest; ties share the best rank; NaN stays NaN. Any leading axes."""
    v = np.round(values, 12)
    out = np.full(v.shape, np.nan)
    if v.size == 0:
        return out
    valid = ~np.isnan(v)
    flat_v = v.reshape(-1, v.shape[-1])
    flat_ok = valid.reshape(-1, v.shape[-1])
    flat_out = out.reshape(-1, v.shape[-1])
    chunk = max(1, 4_000_000 // max(1, v.shape[-1] ** 2))
    for start in range(0, flat_v.shape[0], chunk):
        block = flat_v[start:start + chunk]
        ok = flat_ok[start:start + chunk]
        filled = np.where(ok, block, -np.inf)
        greater = (filled[:, None, :] > filled[:, :, None]).sum(axis=2)
        flat_out[start:start + chunk] = np.where(ok, greater + 1.0, np.nan)
    return out


# ------------------------------------------------------------------------------------------------
# 4. The result


def compute_index(spec: IndexSpec, data, reference_year: int | None = None,
                  countries: Iterable[str] | None = None) -> IndexResult:
    """The index for every country: `data` is a Dataset or a mapping indicator → DataFrame(iso3, year, value).

    `countries` defaults to every country the Dataset knows (never aggregates), or to the countries
    present in the mapping."""
    prepared = prepare(spec, data, reference_year, countries)
    return result_from(spec, prepared)


@dataclass(frozen=True)
class Prepared:
    latest: Latest
    plan: Plan


def prepare(spec: IndexSpec, data, reference_year: int | None = None,
            countries: Iterable[str] | None = None) -> Prepared:
    year = reference_year if reference_year is not None else spec.reference_year
    if year is None:
        raise UserError(Problem(spec.file, None, "no reference year for the index",
                                "add 'reference_year: YYYY' to the index file or pass one"))
    frames = headline_frames(data, spec.codes)
    chosen = tuple(sorted({str(c) for c in countries})) if countries is not None else default_countries(data, frames)
    return Prepared(latest_values(frames, spec.codes, chosen, int(year)), Plan.of(spec))


def result_from(spec: IndexSpec, prepared: Prepared) -> IndexResult:
    latest, plan = prepared.latest, prepared.plan
    leaves = leaf_scores(spec, latest)
    status = node_status(plan, leaves.avail)
    ev = evaluate(plan, leaves, status)
    countries = pd.Index(latest.countries, name="iso3")
    n_leaves = len(plan.leaves)
    order = _column_order(spec)
    idx = {n.id: j for j, n in enumerate(plan.nodes)}
    cols = [idx[nid] for nid in order]
    value_arr = ev.values[0][:, cols]
    ok_arr = status[:, [n_leaves + c for c in cols]]
    columns = pd.Index(order, name="node")
    values = pd.DataFrame(value_arr, index=countries, columns=columns)
    ok = pd.DataFrame(ok_arr, index=countries, columns=columns)
    status_df = pd.DataFrame(np.where(ok_arr, OK, INSUFFICIENT).astype(object), index=countries, columns=columns)
    ranks = pd.DataFrame(rank_desc(value_arr.T).T, index=countries, columns=columns).astype("Int64")
    scores = pd.DataFrame(leaves.scores, index=countries, columns=pd.Index(plan.leaves, name="indicator"))

    counted = [i for i, leaf in enumerate(spec.leaves) if not leaf.supplementary]
    n_avail = leaves.avail[:, counted].sum(axis=1)
    coverage = pd.DataFrame({
        "indicators_available": n_avail,
        "indicators_total": len(counted),
        "share": n_avail / len(counted) if counted else np.zeros(len(countries)),
        "forms_available": ok_arr[:, [order.index(f) for f in FORMS]].sum(axis=1),
        "forms_total": len(FORMS),
    }, index=countries)

    clusters, cluster_method = assign_clusters(values, ok, spec.clusters)
    inputs = _inputs_table(spec, latest, leaves)
    flags = _flags_table(spec, latest, leaves)
    method = _method(spec, plan, latest, leaves, ev, ok, cluster_method)
    return IndexResult(index_id=spec.id, label=dict(spec.label), reference_year=latest.reference_year,
                       countries=latest.countries, values=values, status=status_df, ranks=ranks, scores=scores,
                       coverage=coverage, inputs=inputs, flags=flags, clusters=clusters, method=method, spec=spec)


def _column_order(spec: IndexSpec) -> list[str]:
    cols = ["overall"] + [f"overall.{k}" for k in KINDS] + list(FORMS)
    for form in FORMS:
        cols += [n.id for n in spec.nodes if n.kind == "sub_index" and n.form == form]
    return cols


def _inputs_table(spec: IndexSpec, latest: Latest, leaves: LeafScores) -> pd.DataFrame:
    """Every value found up to the reference year, with its year, provenance, the value used and its score."""
    i, j = np.nonzero(~np.isnan(latest.values.T))[::-1]  # indicator-major order, then ISO3
    table = {
        "iso3": np.asarray(latest.countries, dtype=object)[i] if len(i) else np.array([], dtype=object),
        "indicator": np.asarray(latest.codes, dtype=object)[j] if len(j) else np.array([], dtype=object),
        "year": latest.years[i, j].astype("int64"),
        "value": latest.values[i, j],
        **{c: latest.provenance[c][i, j] for c in PROVENANCE},
        "used": leaves.used[i, j], "score": leaves.scores[i, j], "in_index": leaves.avail[i, j],
        "imputed": leaves.imputed[i, j], "winsorised": leaves.capped[i, j], "clipped": leaves.clipped[i, j],
    }
    return pd.DataFrame(table)


def _flags_table(spec: IndexSpec, latest: Latest, leaves: LeafScores) -> pd.DataFrame:
    records = []
    ref = latest.reference_year
    for j, leaf in enumerate(spec.leaves):
        for i in np.flatnonzero(leaves.imputed[:, j] | leaves.capped[:, j] | leaves.clipped[:, j]
                                | leaves.excluded[:, j] | leaves.too_old[:, j]):
            iso3 = latest.countries[i]
            year = int(latest.years[i, j])
            original = float(latest.values[i, j])
            used = float(leaves.used[i, j])
            if leaves.imputed[i, j]:
                records.append((iso3, leaf.code, "imputed", year, original, original,
                                f"{year} value used for {ref} (latest within {leaves.windows[j]} years)"))
            if leaves.capped[i, j]:
                w = leaves.params[j]["winsorise"]
                side = "upper" if original > used else "lower"
                records.append((iso3, leaf.code, "winsorised", year, original, used,
                                f"capped at the {side} {w[side]:.1%} quantile"))
            if leaves.clipped[i, j]:
                records.append((iso3, leaf.code, "clipped", year, original, float(leaves.goalpost[i, j]),
                                "beyond the declared goalpost; scored as the goalpost"))
            if leaves.excluded[i, j]:
                records.append((iso3, leaf.code, "excluded", year, original, np.nan,
                                "not positive, so the log transform cannot take it"))
            if leaves.too_old[i, j]:
                records.append((iso3, leaf.code, "outside_window", year, original, np.nan,
                                f"older than the {leaves.windows[j]}-year window before {ref}; not used"))
    flags = pd.DataFrame(records, columns=["iso3", "indicator", "kind", "year", "original", "used", "note"])
    return flags.sort_values(["iso3", "indicator", "kind"], kind="stable").reset_index(drop=True)


def _method(spec: IndexSpec, plan: Plan, latest: Latest, leaves: LeafScores, ev: Evaluation, ok: pd.DataFrame,
            cluster_method: dict) -> dict:
    """What was done, in data: generated from the configuration and the run, for the methodology section."""
    from .describe import method_description

    return method_description(spec, plan, latest, leaves, ev, ok, cluster_method)
