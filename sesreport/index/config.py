"""`config/indices/*.yaml` → a validated, fully resolved :class:`IndexSpec` (every setting inherited and checked).

An index file places catalog indicators in a tree — indicators → input/process/outcome
sub-index → form of security → overall index — and states, per node, how values are
normalised, weighted, aggregated, imputed, capped and when a node has too little data.
Settings not given on a node are inherited: an indicator takes its sub-index's, which takes
its form's, which takes the file's `defaults`; the `overall` block only says how forms combine.
Every mistake in a file is reported at once, with file, line and a suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..catalog import FORMS, Catalog
from ..errors import Problem, UserError, did_you_mean, display_path
from ..i18n import N_
from ..schema import Strict, register, validate
from ..yamlio import Located, load_yaml

KINDS = ("input", "process", "outcome")
NORMALISATIONS = ("minmax", "zscore", "rank", "distance_to_target")

FORM_LABELS = {
    "labour_market": N_("Labour market security"),
    "employment": N_("Employment security"),
    "job": N_("Job security"),
    "work": N_("Work security"),
    "skill_reproduction": N_("Skill reproduction security"),
    "income": N_("Income security"),
    "representation": N_("Representation security"),
}
KIND_LABELS = {"input": "Input", "process": "Process", "outcome": "Outcome"}
NOT_DECLARED = "not declared in the index configuration"

NormMethod = Literal["minmax", "zscore", "rank", "distance_to_target"]
AggMethod = Literal["arithmetic", "geometric"]
Transform = Literal["none", "log"]


# ------------------------------------------------------------------------------------------------
# Schema (what a file may say)


def _text(value):
    """A text in one language ('...') or several ({en: ..., fr: ...})."""
    return {"en": value} if isinstance(value, str) else value


def _none_word(value) -> bool:
    return value is None or value is False or (isinstance(value, str) and value.strip().lower() == "none")


class Normalisation(Strict):
    """How raw values become comparable scores."""

    method: NormMethod
    min: float | None = None
    """minmax: the lower goalpost, in the indicator's unit (default: the observed minimum)."""
    max: float | None = None
    """minmax: the upper goalpost (default: the observed maximum)."""
    target: float | None = None
    """distance_to_target: the value that scores 1."""
    worst: float | None = None
    """distance_to_target: the value that scores 0 (default: the observed worst value)."""

    @model_validator(mode="after")
    def _parameters(self):
        given = {k for k in ("min", "max", "target", "worst") if getattr(self, k) is not None}
        allowed = {"minmax": {"min", "max"}, "distance_to_target": {"target", "worst"}}.get(self.method, set())
        extra = sorted(given - allowed)
        if extra:
            raise ValueError(f"'{self.method}' takes no {' or '.join(extra)}"
                             + (f" (it takes {' and '.join(sorted(allowed))})" if allowed else ""))
        if self.method == "minmax" and self.min is not None and self.max is not None and not self.min < self.max:
            raise ValueError(f"the goalposts must satisfy min < max (got min {self.min:g}, max {self.max:g})")
        if self.method == "distance_to_target" and self.target is None:
            raise ValueError("distance_to_target needs a 'target'")
        if self.target is not None and self.worst is not None and self.target == self.worst:
            raise ValueError("'target' and 'worst' must differ")
        return self


class Weights(Strict):
    """How a node weighs its children: equal, explicit numbers (normalised to sum 1) or PCA."""

    method: Literal["equal", "pca", "explicit"]
    values: dict[str, float] = {}

    @model_validator(mode="after")
    def _values(self):
        if self.method == "explicit":
            if not self.values:
                raise ValueError("explicit weights need a number for each child")
            bad = [k for k, v in self.values.items() if not v >= 0]
            if bad:
                raise ValueError(f"weights must be zero or positive ({', '.join(bad)})")
            if sum(self.values.values()) <= 0:
                raise ValueError("at least one weight must be positive")
        elif self.values:
            raise ValueError(f"'{self.method}' weights take no numbers")
        return self


class Aggregation(Strict):
    method: AggMethod
    floor: float = Field(0.01, gt=0, lt=1)
    """geometric: scores are moved from [0, 1] into [floor, 1] before the product (no zero can wipe a node out)."""


class Coverage(Strict):
    """A node has a value only when enough of its children have one."""

    min_count: int = Field(1, ge=0)
    min_share: float = Field(0.0, ge=0, le=1)
    min_indicator_share: float = Field(0.0, ge=0, le=1)
    """Share of all the indicators beneath the node (supplementary ones aside) that must have a value."""


class Imputation(Strict):
    window: int = Field(ge=0, le=100)
    """Years before the reference year in which the latest value may be taken (0: the reference year only)."""


class Winsorise(Strict):
    lower: float = Field(0.0, ge=0, lt=0.5)
    upper: float = Field(1.0, gt=0.5, le=1)


def _coerce_normalisation(v):
    return {"method": v} if isinstance(v, str) else v


def _coerce_weights(v):
    if isinstance(v, str):
        return {"method": v}
    if isinstance(v, dict) and "method" not in v:
        return {"method": "explicit", "values": v}
    return v


def _coerce_aggregation(v):
    return {"method": v} if isinstance(v, str) else v


def _coerce_imputation(v):
    if _none_word(v):
        return {"window": 0}
    if isinstance(v, int) and not isinstance(v, bool):
        return {"window": v}
    return v


def _coerce_winsorise(v):
    return {"lower": 0.0, "upper": 1.0} if _none_word(v) else v


class LeafSettings(Strict):
    normalisation: Normalisation | None = None
    """minmax (goalposts min/max, else observed), zscore, rank, or distance_to_target (target, worst)."""
    transform: Transform | None = None
    """'log' takes the natural logarithm before anything else (for skewed money amounts)."""
    imputation: Imputation | None = None
    """'none', or {window: N}: the latest value within N years before the reference year."""
    winsorise: Winsorise | None = None
    """'none', or {lower: q, upper: q}: values beyond these quantiles are capped."""

    _n = field_validator("normalisation", mode="before")(lambda v: _coerce_normalisation(v))
    _i = field_validator("imputation", mode="before")(lambda v: _coerce_imputation(v))
    _w = field_validator("winsorise", mode="before")(lambda v: _coerce_winsorise(v))


class NodeSettings(LeafSettings):
    weights: Weights | None = None
    """'equal', 'pca', or {child: number, …} (normalised to sum 1)."""
    aggregation: Aggregation | None = None
    """'arithmetic' or 'geometric' (or {method: geometric, floor: 0.01})."""
    coverage: Coverage | None = None
    """{min_count: n, min_share: s}: fewer children with data make the node 'insufficient data'."""

    _wt = field_validator("weights", mode="before")(lambda v: _coerce_weights(v))
    _ag = field_validator("aggregation", mode="before")(lambda v: _coerce_aggregation(v))


class IndicatorEntry(LeafSettings):
    note: dict[str, str] | None = None
    supplementary: bool = False
    """Used where available but never counted by a coverage rule (e.g. an OECD-only series): a country
    without it is neither penalised nor excluded, and its value does not depend on it."""
    _t = field_validator("note", mode="before")(lambda v: _text(v))


class SubIndexNode(NodeSettings):
    indicators: dict[str, IndicatorEntry] = {}
    note: dict[str, str] | None = None

    _t = field_validator("note", mode="before")(lambda v: _text(v))

    @field_validator("indicators", mode="before")
    @classmethod
    def _empty_entries(cls, v):
        if isinstance(v, list):  # a plain list of codes
            out = {}
            for item in v:
                if isinstance(item, dict) and len(item) == 1:
                    out.update({k: ({} if e is None else e) for k, e in item.items()})
                else:
                    out[item] = {}
            return out
        if isinstance(v, dict):
            return {k: ({} if e is None else e) for k, e in v.items()}
        return v


class FormNode(NodeSettings):
    label: dict[str, str] | None = None
    note: dict[str, str] | None = None
    input: SubIndexNode | None = None
    process: SubIndexNode | None = None
    outcome: SubIndexNode | None = None

    _t = field_validator("label", "note", mode="before")(lambda v: _text(v))


class Forms(Strict):
    labour_market: FormNode | None = None
    employment: FormNode | None = None
    job: FormNode | None = None
    work: FormNode | None = None
    skill_reproduction: FormNode | None = None
    income: FormNode | None = None
    representation: FormNode | None = None

    @model_validator(mode="before")
    @classmethod
    def _declared_empty(cls, v):
        # `work:` with nothing under it declares the form, with no indicators
        return {k: ({} if e is None else e) for k, e in v.items()} if isinstance(v, dict) else v


class Overall(Strict):
    label: dict[str, str] | None = None
    weights: Weights | None = None
    aggregation: Aggregation | None = None
    coverage: Coverage | None = None
    sub_index_coverage: Coverage | None = None
    """Coverage of the cross-form input/process/outcome sub-indexes, among forms that declare that sub-index."""
    require_sub_indexes: bool = False
    """Rank a country only when its input, process and outcome sub-indexes (those some form declares) have a
    value, so that every ranked country can be placed in a cluster."""

    _t = field_validator("label", mode="before")(lambda v: _text(v))
    _wt = field_validator("weights", mode="before")(lambda v: _coerce_weights(v))
    _ag = field_validator("aggregation", mode="before")(lambda v: _coerce_aggregation(v))


class Clusters(Strict):
    threshold: float = Field(0.6, gt=0, lt=1)
    """'High' means at or above this quantile among countries with a value (0.6: the 6th decile)."""
    min_available_share: float = Field(0.5, ge=0, le=1)
    """A sub-index available for fewer of the countries with an overall index is dropped from the rule."""


class WeightPerturbation(Strict):
    perturb: float = Field(0.0, ge=0, lt=1)
    """Each weight is multiplied by a uniform draw in [1 - perturb, 1 + perturb], then renormalised."""


class Sensitivity(Strict):
    draws: int = Field(1000, ge=1, le=1_000_000)
    seed: int = 0
    weights: WeightPerturbation = WeightPerturbation()
    normalisation: tuple[Literal["declared", "minmax", "zscore", "rank"], ...] = ("declared",)
    aggregation: tuple[Literal["declared", "arithmetic", "geometric"], ...] = ("declared",)
    imputation_window: tuple[int | str, ...] = ("declared",)

    @field_validator("normalisation", "aggregation", "imputation_window", mode="before")
    @classmethod
    def _listify(cls, v):
        return [v] if isinstance(v, (str, int)) else v

    @field_validator("imputation_window")
    @classmethod
    def _windows(cls, v):
        for item in v:
            if item != "declared" and not (isinstance(item, int) and 0 <= item <= 100):
                raise ValueError(f"imputation windows are years (0–100) or 'declared' (got {item!r})")
        return v

    @model_validator(mode="after")
    def _non_empty(self):
        for name in ("normalisation", "aggregation", "imputation_window"):
            if not getattr(self, name):
                raise ValueError(f"sensitivity.{name} needs at least one alternative")
        return self


class AuditSettings(Strict):
    plausibility: dict[str, Transform] = {}
    """Independent catalog indicators the index is compared with ('log' for money amounts)."""
    window: int = Field(10, ge=0, le=100)
    """Years before the reference year in which their latest value is taken."""


class IndexFile(Strict):
    id: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]*$")
    label: dict[str, str]
    description: dict[str, str] = {}
    reference_year: int | None = Field(None, ge=1900, le=2100)
    defaults: NodeSettings = NodeSettings()
    overall: Overall = Overall()
    forms: Forms
    clusters: Clusters = Clusters()
    sensitivity: Sensitivity = Sensitivity()
    audit: AuditSettings = AuditSettings()

    _t = field_validator("label", "description", mode="before")(lambda v: _text(v))


register(Normalisation, Weights, Aggregation, Coverage, Imputation, Winsorise, NodeSettings, IndicatorEntry,
         SubIndexNode, FormNode, Forms, Overall, Clusters, WeightPerturbation, Sensitivity, AuditSettings,
         IndexFile)


# ------------------------------------------------------------------------------------------------
# Resolved specification (what the computation uses)


@dataclass(frozen=True)
class LeafSpec:
    """One indicator in the index, with every setting resolved."""

    code: str
    form: str
    kind: str
    parent: str  # node id of its sub-index
    direction: str  # higher_better | lower_better (neutral is refused)
    normalisation: Normalisation
    transform: str
    window: int
    winsorise: tuple[float, float] | None
    line: int | None = None
    supplementary: bool = False


@dataclass(frozen=True)
class NodeSpec:
    """One aggregation node: the overall index, a form, a sub-index, or a cross-form sub-index."""

    id: str
    kind: Literal["overall", "form", "sub_index", "overall_sub_index"]
    label: str
    children: tuple[str, ...]  # node ids, or indicator codes for a sub-index
    weights: Weights
    aggregation: Aggregation
    coverage: Coverage
    form: str | None = None
    sub_index: str | None = None  # input | process | outcome
    note: str | None = None
    line: int | None = None
    requires: tuple[str, ...] = ()  # other nodes that must have a value for this one to have one


@dataclass(frozen=True)
class IndexSpec:
    """A validated index: its indicators (leaves) and its nodes, listed children before parents."""

    id: str
    label: dict[str, str]
    file: str
    reference_year: int | None
    leaves: tuple[LeafSpec, ...]
    nodes: tuple[NodeSpec, ...]
    clusters: Clusters
    sensitivity: Sensitivity
    description: dict[str, str] = field(default_factory=dict)
    audit: AuditSettings = field(default_factory=AuditSettings)

    def node(self, node_id: str) -> NodeSpec:
        return next(n for n in self.nodes if n.id == node_id)

    def leaf(self, code: str) -> LeafSpec:
        return next(leaf for leaf in self.leaves if leaf.code == code)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(leaf.code for leaf in self.leaves)

    @property
    def forms(self) -> tuple[str, ...]:
        return FORMS


_BUILTIN = NodeSettings(
    normalisation=Normalisation(method="minmax"), transform="none", imputation=Imputation(window=0),
    winsorise=Winsorise(), weights=Weights(method="equal"), aggregation=Aggregation(method="arithmetic"),
    coverage=Coverage(),
)


def _pick(name: str, *levels, skip_explicit: bool = False):
    """The first setting given, from the most specific level to the built-in default."""
    for level in levels + (_BUILTIN,):
        value = getattr(level, name, None) if level is not None else None
        if value is None:
            continue
        if skip_explicit and isinstance(value, Weights) and value.method == "explicit":
            continue
        return value
    raise AssertionError(name)


def _own_weights(settings, inherited: tuple, names: tuple[str, ...], ids: tuple[str, ...]) -> Weights:
    """The node's weights: its own explicit ones (written by child `names`, stored under node `ids`), or
    'equal'/'pca' from the node or the nearest level above. Explicit weights were checked by `placement_problems`."""
    own = getattr(settings, "weights", None)
    if own is None or own.method != "explicit":
        return _pick("weights", settings, *inherited, skip_explicit=True)
    return Weights(method="explicit", values={i: float(own.values.get(n, 0.0)) for n, i in zip(names, ids)})


def _weights_problems(raw: Any, names: list[str], path: tuple, located: Located) -> list[Problem]:
    """Explicit weights must name exactly the node's children."""
    if not isinstance(raw, dict):
        return []
    values = raw.get("values") if "method" in raw else raw
    if not isinstance(values, dict):
        return []
    out = []
    where = ".".join(map(str, path + ("weights",)))
    for name in values:
        if name not in names:
            key = ("weights", name) if "method" not in raw else ("weights", "values", name)
            line = located.line_of(path + key)
            out.append(Problem(located.file, line, f"{where}: '{name}' is not a child of this node "
                                                   f"(its children are {', '.join(names) or 'none'})",
                               did_you_mean(str(name), names)))
    missing = [n for n in names if n not in values]
    if missing:
        out.append(Problem(located.file, located.line_of(path + ("weights",)),
                           f"{where}: no weight for {', '.join(missing)}",
                           "give every child a weight (0 leaves it out), or write 'weights: equal'"))
    return out


def resolve(model: IndexFile, located: Located, catalog: Catalog,
            index_id: str) -> tuple[IndexSpec | None, list[Problem]]:
    """Resolve every inherited setting (the placements have been checked by `placement_problems`)."""
    problems: list[Problem] = []
    file = located.file
    leaves: list[LeafSpec] = []
    nodes: list[NodeSpec] = []
    defaults = model.defaults
    kinds_by_form: dict[str, list[str]] = {}

    for form in FORMS:
        fnode: FormNode | None = getattr(model.forms, form)
        fpath = ("forms", form)
        if fnode is None:
            nodes.append(NodeSpec(form, "form", FORM_LABELS[form], (), Weights(method="equal"),
                                  _pick("aggregation", defaults), _pick("coverage", defaults), form=form,
                                  note=NOT_DECLARED))
            kinds_by_form[form] = []
            continue
        sub_ids = []
        for kind in KINDS:
            snode: SubIndexNode | None = getattr(fnode, kind)
            if snode is None:
                continue
            spath = fpath + (kind,)
            sid = f"{form}.{kind}"
            codes = []
            for code, entry in snode.indicators.items():
                ipath = spath + ("indicators", code)
                line = located.line_of(ipath)
                ind = catalog[code]
                levels = (entry, snode, fnode, defaults)
                norm = _pick("normalisation", *levels)
                transform = _pick("transform", *levels)
                problems.extend(_check_leaf(code, ind.direction, norm, transform, file, line))
                w = _pick("winsorise", *levels)
                leaves.append(LeafSpec(
                    code=code, form=form, kind=kind, parent=sid, direction=ind.direction, normalisation=norm,
                    transform=transform, window=_pick("imputation", *levels).window,
                    winsorise=None if (w.lower == 0 and w.upper == 1) else (w.lower, w.upper), line=line,
                    supplementary=entry.supplementary))
                codes.append(code)
            children = tuple(codes)
            names = tuple(snode.indicators)
            weights = _own_weights(snode, (fnode, defaults), names, names)
            note = snode.note.get("en") if snode.note else None
            if not snode.indicators:
                note = note or "no indicators placed"
            nodes.append(NodeSpec(sid, "sub_index", f"{FORM_LABELS[form]}: {KIND_LABELS[kind].lower()}", children,
                                  weights, _pick("aggregation", snode, fnode, defaults),
                                  _pick("coverage", snode, fnode, defaults), form=form, sub_index=kind, note=note,
                                  line=located.line_of(spath)))
            sub_ids.append(sid)
        kinds_by_form[form] = [s.split(".")[1] for s in sub_ids]
        weights = _own_weights(fnode, (defaults,), tuple(kinds_by_form[form]), tuple(sub_ids))
        label = (fnode.label or {}).get("en") or FORM_LABELS[form]
        note = fnode.note.get("en") if fnode.note else None
        if not sub_ids:
            note = note or "no indicators placed"
        nodes.append(NodeSpec(form, "form", label, tuple(sub_ids), weights, _pick("aggregation", fnode, defaults),
                              _pick("coverage", fnode, defaults), form=form, note=note,
                              line=located.line_of(fpath)))

    ov = model.overall
    declared = tuple(f for f in FORMS if getattr(model.forms, f) is not None)
    overall_weights = _own_weights(ov, (defaults,), declared, declared)
    overall_agg = _pick("aggregation", ov, defaults)
    for kind in KINDS:
        forms_with = tuple(f"{f}.{kind}" for f in FORMS if kind in kinds_by_form.get(f, []))
        weights = overall_weights
        if overall_weights.method == "explicit":  # the forms' weights, restricted to forms with this sub-index
            values = {c: overall_weights.values.get(c.split(".")[0], 0.0) for c in forms_with}
            weights = Weights(method="explicit", values=values) if sum(values.values()) > 0 else Weights(method="equal")
        cov = ov.sub_index_coverage or _pick("coverage", defaults)
        note = None if forms_with else f"no form declares {kind} indicators"
        nodes.append(NodeSpec(f"overall.{kind}", "overall_sub_index", f"{KIND_LABELS[kind]} sub-index (all forms)",
                              forms_with, weights, overall_agg, cov, sub_index=kind, note=note))
    label = (ov.label or model.label).get("en") or model.label.get("en", index_id)
    requires = tuple(f"overall.{k}" for k in KINDS if any(k in ks for ks in kinds_by_form.values()))
    nodes.append(NodeSpec("overall", "overall", label, FORMS, overall_weights, overall_agg,
                          _pick("coverage", ov, defaults), line=located.line_of(("overall",)),
                          requires=requires if ov.require_sub_indexes else ()))
    for code in model.audit.plausibility:
        if code not in catalog:
            problems.append(Problem(file, located.line_of(("audit", "plausibility", code)),
                                    f"audit.plausibility: unknown indicator '{code}'",
                                    did_you_mean(str(code), catalog.indicators) or f"see {catalog.file}"))
    if problems:
        return None, problems
    spec = IndexSpec(id=model.id or index_id, label=dict(model.label), file=file, reference_year=model.reference_year,
                     leaves=tuple(leaves), nodes=tuple(nodes), clusters=model.clusters,
                     sensitivity=model.sensitivity, description=dict(model.description), audit=model.audit)
    return spec, []


def _check_leaf(code: str, direction: str, norm: Normalisation, transform: str, file: str,
                line: int | None) -> list[Problem]:
    out = []
    if norm.method == "distance_to_target" and norm.worst is not None and norm.target is not None:
        wrong = (norm.target < norm.worst) if direction == "higher_better" else (norm.target > norm.worst)
        if wrong:
            side = "above" if direction == "higher_better" else "below"
            out.append(Problem(file, line, f"indicator '{code}' is {direction.replace('_', ' ')}, so its target "
                                           f"({norm.target:g}) must be {side} its worst value ({norm.worst:g})"))
    if transform == "log":
        for name in ("min", "max", "target", "worst"):
            value = getattr(norm, name)
            if value is not None and value <= 0:
                out.append(Problem(file, line, f"indicator '{code}': with transform 'log' the {name} ({value:g}) "
                                               "must be above zero"))
    return out


# ------------------------------------------------------------------------------------------------
# Loading


def placement_problems(data: Any, located: Located, catalog: Catalog) -> list[Problem]:
    """Indicators checked against the catalog, on the raw data, so that they are reported even when
    the file has schema errors too: unknown codes, duplicates, neutral direction, a type or form
    that contradicts the catalog."""
    problems: list[Problem] = []
    file = located.file
    forms = data.get("forms") if isinstance(data, dict) else None
    if not isinstance(forms, dict):
        return problems
    placed: dict[str, str] = {}
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and isinstance(defaults.get("weights"), dict) and "method" not in defaults["weights"]:
        problems.append(Problem(file, located.line_of(("defaults", "weights")),
                                "defaults.weights: numbers name the children of one node, so they cannot be a default",
                                "write 'equal' or 'pca' here, and the numbers on the node they belong to"))
    if isinstance(data.get("overall"), dict):
        declared = [f for f in forms if f in FORMS]
        problems += _weights_problems(data["overall"].get("weights"), declared, ("overall",), located)
    for form, fnode in forms.items():
        if not isinstance(fnode, dict):
            continue
        kinds = [k for k in KINDS if isinstance(fnode.get(k), dict)]
        problems += _weights_problems(fnode.get("weights"), kinds, ("forms", form), located)
        for kind in KINDS:
            snode = fnode.get(kind)
            if not isinstance(snode, dict):
                continue
            entries = snode.get("indicators")
            if isinstance(entries, list):
                entries = {next(iter(e)) if isinstance(e, dict) and len(e) == 1 else e: None for e in entries
                           if isinstance(e, (str, dict))}
            if not isinstance(entries, dict):
                continue
            problems += _weights_problems(snode.get("weights"), list(entries), ("forms", form, kind), located)
            where = f"forms.{form}.{kind}.indicators"
            for code in entries:
                line = located.line_of(("forms", form, kind, "indicators", code))
                if not isinstance(code, str) or code not in catalog:
                    problems.append(Problem(file, line, f"{where}: unknown indicator '{code}'",
                                            did_you_mean(str(code), catalog.indicators)
                                            or f"see {catalog.file} for the indicator codes"))
                    continue
                ind = catalog[code]
                if code in placed:
                    problems.append(Problem(file, line, f"{where}: indicator '{code}' is placed twice "
                                                        f"(also in {placed[code]})",
                                            "an indicator counts once in an index; remove one of them"))
                    continue
                placed[code] = f"{form}.{kind}"
                if ind.direction == "neutral":
                    problems.append(Problem(
                        file, line, f"{where}: indicator '{code}' has direction 'neutral' in the catalog, so the "
                        "index cannot tell whether more of it means more security",
                        f"leave it out of the index, or set higher_better/lower_better in {catalog.file}"))
                if ind.type != kind:
                    article = "an" if ind.type[0] in "aeiou" else "a"
                    problems.append(Problem(
                        file, line, f"{where}: indicator '{code}' is {article} {ind.type} indicator in the catalog, "
                        f"not {kind}", f"move it to forms.{form}.{ind.type}, or correct its type in {catalog.file}"))
                if ind.form is not None and ind.form != form and form in FORMS:
                    problems.append(Problem(
                        file, line, f"{where}: indicator '{code}' belongs to the {ind.form} form in the catalog",
                        f"move it to forms.{ind.form}, or correct its form in {catalog.file}"))
    return problems


def _tidy(problems: list[Problem]) -> list[Problem]:
    """Messages from whole-mapping checks end in '(got dict)', which says nothing: drop it; order by line."""
    out = [Problem(p.file, p.line, p.message.removesuffix(" (got dict)"), p.hint, p.severity) for p in problems]
    return sorted(out, key=lambda p: (p.file or "", p.line or 0))


def index_spec(located: Located, catalog: Catalog,
               index_id: str | None = None) -> tuple[IndexSpec | None, list[Problem]]:
    """Validate one file's data; problems instead of an exception, so that callers can collect them."""
    if not isinstance(located.data, dict):
        return None, [Problem(located.file, 1, "an index file must be a mapping (label:, forms:, …)")]
    model, problems = validate(IndexFile, located)
    problems = problems + placement_problems(located.data, located, catalog)
    if problems:
        return None, _tidy(problems)
    assert model is not None
    spec, problems = resolve(model, located, catalog, index_id or Path(located.file).stem)
    return spec, _tidy(problems)


def load_index_config(path: Path | str, catalog: Catalog, text: str | None = None) -> IndexSpec:
    """Read and check one index file; every mistake in it is raised together as a UserError."""
    located = load_yaml(path, text)
    spec, problems = index_spec(located, catalog, Path(path).stem)
    if problems:
        raise UserError(problems)
    assert spec is not None
    return spec


def load_indices(config_dir: Path | str, catalog: Catalog) -> dict[str, IndexSpec]:
    """Every `indices/*.yaml` under the config folder, by index id; all problems of all files at once."""
    folder = Path(config_dir) / "indices"
    problems: list[Problem] = []
    specs: dict[str, IndexSpec] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            located = load_yaml(path)
        except UserError as exc:
            problems.extend(exc.problems)
            continue
        spec, found = index_spec(located, catalog, path.stem)
        problems.extend(found)
        if spec is not None:
            if spec.id in specs:
                problems.append(Problem(display_path(path), None,
                                        f"index id '{spec.id}' is also used by {specs[spec.id].file}",
                                        "give each index its own id"))
            specs[spec.id] = spec
    if problems:
        raise UserError(problems)
    return specs


def spec_from_dict(data: dict[str, Any], catalog: Catalog, file: str = "<index>") -> IndexSpec:
    """An index from plain data (tests, notebooks); problems raised like a file's, without line numbers."""
    located = Located(data=data, file=file, lines={})
    spec, problems = index_spec(located, catalog, data.get("id") or "index")
    if problems:
        raise UserError(problems)
    assert spec is not None
    return spec
