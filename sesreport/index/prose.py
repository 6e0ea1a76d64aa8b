"""An :class:`IndexResult` + a language → the methodology as paragraphs a reader can follow, each number traced.

What was measured, how it was combined, what is missing, how the countries fall into clusters,
what the statistical audit found and how uncertain the ranks are: generated from the index file
(`result.spec`) and the run (`result.method`, `.audit`, `.sensitivity`), never typed by hand,
in any language of the gettext catalogs, with numbers in the locale's format. Every number is
recorded as a part of its paragraph's figure record, with the line of the index file whose
setting, node or block it comes from (see :mod:`sesreport.documents.trace`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from babel.lists import format_list

from ..catalog import FORMS
from ..i18n import N_, Lang
from .clusters import CLUSTER_LABELS, CLUSTERS
from .config import FORM_LABELS, KINDS

KIND_WORDS = {"input": N_("input (law)"), "process": N_("process (institutions and resources)"),
              "outcome": N_("outcome")}
NORM_WORDS = {"declared": N_("as declared"), "minmax": N_("min-max"), "zscore": N_("z-scores"),
              "rank": N_("percentile ranks"), "arithmetic": N_("arithmetic mean"),
              "geometric": N_("geometric mean")}
CHOICE_WORDS = {"weights": N_("the weights"), "normalisation": N_("the normalisation"),
                "aggregation": N_("the aggregation"), "imputation_window": N_("the imputation window")}
TOP_LEAVE_ONE_OUT = 3
MOST_DIFFERENT = 8
FLAGGED_SHOWN = 6


@dataclass
class Writer:
    """Formats numbers for one language and records each as a traced part of the current paragraph."""

    lang: Lang
    file: str
    line_of: Callable[[tuple], int | None]
    parts: list[dict] = field(default_factory=list)

    def num(self, value: float, decimals: int, what: str, where: tuple = ()) -> str:
        text = self.lang.number(value, decimals)
        self.parts.append({"what": what, "text": text,
                           "config": {"file": self.file, "line": self._line(where)}})
        return text

    def year(self, year: int, what: str, where: tuple = ()) -> str:
        text = str(int(year))
        self.parts.append({"what": what, "text": text, "config": {"file": self.file, "line": self._line(where)}})
        return text

    def pct(self, share: float, what: str, where: tuple = (), decimals: int = 0) -> str:
        return self.lang.with_unit(self.num(100 * share, decimals, what, where), "percent")

    def _line(self, where: tuple) -> int | None:
        while where:
            line = self.line_of(where)
            if line:
                return line
            where = where[:-1]
        return self.line_of(("id",)) or 1

    def list(self, items: list[str]) -> str:
        return format_list(items, locale=self.lang.locale) if items else "–"


@dataclass(frozen=True)
class Methodology:
    sections: list[tuple[str, list[str]]]  # (heading, paragraphs)
    figures: list[dict]  # one composed record per paragraph, one traced part per number


def methodology(result, lang: Lang, labels: Mapping[str, str], country: Callable[[str], str],
                line_of: Callable[[tuple], int | None]) -> Methodology:
    """The methodology of `result` in `lang`; `labels` names indicators, `country` names an ISO3 code,
    `line_of` gives the line of a key path in the index file."""
    _ = lang.gettext
    spec, method = result.spec, result.method
    w = Writer(lang, spec.file, line_of)
    sections: list[tuple[str, list[str]]] = []
    figures: list[dict] = []

    def para(section: list[str], text: str, part: str) -> None:
        section.append(text)
        figures.append({"what": "methodology", "text": text, "section": part, "block": len(section) - 1,
                        "parts": list(w.parts)})
        w.parts.clear()

    measured: list[str] = []
    para(measured, _measured(w, result, labels), "measured")
    for form in FORMS:
        para(measured, _form(w, result, form, labels), "measured")
    sections.append((_("What is measured"), measured))

    combined: list[str] = []
    para(combined, _normalised(w, result, labels), "combined")
    para(combined, _imputed_and_combined(w, result), "combined")
    sections.append((_("How it is combined"), combined))

    missing: list[str] = []
    para(missing, _coverage(w, result, labels), "missing")
    supplementary = _supplementary(w, result, labels)
    if supplementary:
        para(missing, supplementary, "missing")
    sections.append((_("What is missing"), missing))

    clusters: list[str] = []
    para(clusters, _clusters(w, method["clusters"]), "clusters")
    sections.append((_("Clusters"), clusters))

    if result.audit is not None:
        audit: list[str] = []
        for text in _audit(w, result, labels, country):
            para(audit, text, "audit")
        sections.append((_("Statistical audit"), audit))

    if result.sensitivity is not None:
        uncertain: list[str] = []
        for text in _uncertainty(w, result.sensitivity.method):
            para(uncertain, text, "uncertainty")
        sections.append((_("How uncertain the ranks are"), uncertain))
    return Methodology(sections, figures)


# --------------------------------------------------------------------------------------------- measured


def _measured(w: Writer, result, labels) -> str:
    _ = w.lang.gettext
    leaves = result.spec.leaves
    count = {k: sum(1 for leaf in leaves if leaf.kind == k) for k in KINDS}
    return _("The {index} measures the seven forms of labour-related security of the ILO Socio-Economic Security "
             "programme for the reference year {year}. It combines {n} indicators from published data: {n_input} on "
             "what the law guarantees (input), {n_process} on the institutions and resources that make it real "
             "(process) and {n_outcome} on what workers actually get (outcome).").format(
        index=w.lang.text(result.label), year=w.year(result.reference_year, "reference year", ("reference_year",)),
        n=w.num(len(leaves), 0, "indicators", ("forms",)),
        n_input=w.num(count["input"], 0, "input indicators", ("forms",)),
        n_process=w.num(count["process"], 0, "process indicators", ("forms",)),
        n_outcome=w.num(count["outcome"], 0, "outcome indicators", ("forms",)))


def _form(w: Writer, result, form: str, labels) -> str:
    _ = w.lang.gettext
    name = _(FORM_LABELS[form])
    kinds = [k for k in KINDS if any(leaf.form == form and leaf.kind == k for leaf in result.spec.leaves)]
    if not kinds:
        return _("{form}: no indicator of this form is in the data; it is reported as insufficient data for every "
                 "country.").format(form=name)
    parts = []
    for kind in kinds:
        codes = [leaf.code for leaf in result.spec.leaves if leaf.form == form and leaf.kind == kind]
        parts.append(_("{kind}: {indicators}").format(kind=_(KIND_WORDS[kind]),
                                                       indicators=w.list([labels.get(c, c) for c in codes])))
    return _("{form} — {parts}. Known for {n} countries.").format(
        form=name, parts="; ".join(parts),
        n=w.num(result.method["countries"]["by_node"][form], 0, "countries with a value", ("forms", form)))


# --------------------------------------------------------------------------------------------- combined


def _normalised(w: Writer, result, labels) -> str:
    _ = w.lang.gettext
    inds = result.method["indicators"]
    name = lambda i: labels.get(i["code"], i["code"])  # noqa: E731
    by = {m: [i for i in inds if i["normalisation"]["method"] == m] for m in ("minmax", "distance_to_target",
                                                                              "zscore", "rank")}
    texts = []
    if by["minmax"]:
        texts.append(_("Each indicator is rescaled to a score from 0 (the worst value observed among countries) to 1 "
                       "(the best)."))
    targets = by["distance_to_target"]
    if targets:
        items = [_("{indicator} (target {target})").format(
            indicator=name(i), target=w.num(i["normalisation"]["target"], 0, "target",
                                            ("forms", i["form"], i["sub_index"], "indicators", i["code"])))
            for i in targets]
        texts.append(_("{indicators} are scored by their distance to a target: the target scores 1, the worst "
                       "observed value 0.").format(indicators=w.list(items)))
    for m, msg in (("zscore", N_("{indicators} are standardised (z-scores).")),
                   ("rank", N_("{indicators} are scored by their percentile rank."))):
        if by[m]:
            texts.append(_(msg).format(indicators=w.list([name(i) for i in by[m]])))
    lower = [name(i) for i in inds if i["inverted"]]
    if lower:
        texts.append(_("For {indicators}, lower values mean more security, so their scale is reversed.").format(
            indicators=w.list(lower)))
    logs = [name(i) for i in inds if i["transform"] == "log"]
    if logs:
        texts.append(_("{indicators} are taken in logarithms first.").format(indicators=w.list(logs)))
    wins = [i for i in inds if i["winsorisation"]]
    if wins:
        lo, hi = wins[0]["winsorisation"]["lower"], wins[0]["winsorisation"]["upper"]
        texts.append(_("Values below the {low} or above the {high} percentile of the countries are capped there "
                       "({n} values, each flagged in the data export), so that one extreme country does not squeeze "
                       "the others together.").format(
            low=w.pct(lo, "lower cap", ("defaults", "winsorise"), 1), high=w.pct(hi, "upper cap",
                                                                                 ("defaults", "winsorise"), 1),
            n=w.num(sum(i["winsorisation"]["capped"] for i in wins), 0, "values capped", ("defaults", "winsorise"))))
    return " ".join(texts)


def _imputed_and_combined(w: Writer, result) -> str:
    _ = w.lang.gettext
    method = result.method
    inds = method["indicators"]
    windows = sorted({i["imputation"]["window"] for i in inds})
    texts = []
    if windows == [0]:
        texts.append(_("Only values of the reference year are used; missing values are not imputed."))
    else:
        texts.append(_("Where a value of the reference year is missing, the latest value of the {window} years before "
                       "is used ({n} values, each flagged in the data export); later values are never used.").format(
            window=w.num(windows[-1], 0, "imputation window", ("defaults", "imputation")),
            n=w.num(sum(i["imputation"]["imputed"] for i in inds), 0, "values imputed", ("defaults", "imputation"))))
    nodes = [n for n in method["nodes"] if n["children"]]
    geometric = any(n["aggregation"]["method"] == "geometric" for n in nodes)
    equal = all(n["weights_method"] == "equal" for n in nodes)
    if equal and not geometric:
        texts.append(_("Scores are averaged with equal weights: indicators into sub-indexes, sub-indexes into forms "
                       "and forms into the overall index. Where a component has no value, the weights of the others "
                       "are scaled up for that country; a missing value is never counted as zero."))
    else:
        texts.append(_("Scores are combined by weighted means (arithmetic or geometric, as the index file declares "
                       "for each node): indicators into sub-indexes, sub-indexes into forms and forms into the "
                       "overall index. Where a component has no value, the weights of the others are scaled up for "
                       "that country; a missing value is never counted as zero."))
    texts.append(_("Rank 1 is the most secure country; countries with equal values share the better rank."))
    return " ".join(texts)


# --------------------------------------------------------------------------------------------- missing


def _coverage(w: Writer, result, labels) -> str:
    _ = w.lang.gettext
    method = result.method
    nodes = {n["id"]: n for n in method["nodes"]}
    sub = [n for n in method["nodes"] if n["kind"] == "sub_index" and n["children"]]
    share = max((n["coverage"]["min_share"] for n in sub), default=0.0)
    form_share = min((n["coverage"]["min_share"] for n in method["nodes"] if n["kind"] == "form"
                      and len(n["children"]) > 1), default=0.0)
    ov = nodes["overall"]
    cov = result.spec.node("overall").coverage
    counted = int(result.coverage["indicators_total"].iloc[0]) if len(result.coverage) else 0
    ranked = method["countries"]["with_overall"]
    considered = method["countries"]["considered"]
    texts = [_("A sub-index has a value only with at least {share} of its indicators, a form only with at least "
               "{form_share} of its sub-indexes.").format(
        share=w.pct(share, "sub-index coverage", ("defaults", "coverage")),
        form_share=w.pct(form_share, "form coverage", ("forms",)))]
    lenient = [n for n in sub if _required(n["coverage"]["min_share"], _counted(result, n))
               < _required(share, _counted(result, n))]
    if lenient:
        texts.append(_("Exceptions, explained in the index file: {items}.").format(items=w.list([
            _("{node} needs {share}").format(node=_node_name(n["id"], labels, _), share=w.pct(
                n["coverage"]["min_share"], "sub-index coverage", ("forms", n["form"], n["sub_index"], "coverage")))
            for n in lenient])))
    texts.append(_("A country is ranked only with at least {share} of all {n} indicators, at least {forms} of the "
                   "seven forms and a value for each of the input, process and outcome sub-indexes. {ranked} of the "
                   "{considered} countries meet this rule; the other {unranked} are listed as insufficient data, with "
                   "the number of indicators they have.").format(
        share=w.pct(cov.min_indicator_share, "overall coverage", ("overall", "coverage")),
        n=w.num(counted, 0, "indicators counted", ("overall", "coverage")),
        forms=w.num(ov["coverage"]["required"] or 0, 0, "forms required", ("overall", "coverage")),
        ranked=w.num(ranked, 0, "countries ranked", ("overall",)),
        considered=w.num(considered, 0, "countries considered", ("overall",)),
        unranked=w.num(considered - ranked, 0, "countries not ranked", ("overall",))))
    thin = sorted((n for n in method["nodes"] if n["kind"] == "form" and n["children"]),
                  key=lambda n: n["countries_ok"])[:2]
    if thin:
        texts.append(_("The forms known for the fewest countries are {forms}.").format(forms=w.list([
            _("{form} ({n})").format(form=_(FORM_LABELS[n["form"]]),
                                     n=w.num(n["countries_ok"], 0, "countries with a value", ("forms", n["form"])))
            for n in thin])))
    return " ".join(texts)


def _counted(result, node: dict) -> int:
    return sum(1 for c in node["children"] if not result.spec.leaf(c).supplementary)


def _required(share: float, k: int) -> int:
    return max(math.ceil(share * k - 1e-9), 1)


def _supplementary(w: Writer, result, labels) -> str:
    _ = w.lang.gettext
    leaves = [leaf for leaf in result.spec.leaves if leaf.supplementary]
    if not leaves:
        return ""
    inds = {i["code"]: i for i in result.method["indicators"]}
    items = [_("{indicator} ({n} countries)").format(
        indicator=labels.get(leaf.code, leaf.code),
        n=w.num(inds[leaf.code]["countries_with_data"], 0, "countries with data",
                ("forms", leaf.form, leaf.kind, "indicators", leaf.code))) for leaf in leaves]
    return _("{indicators} covers only some countries: it is used where it exists but never "
             "counted by the coverage rules, and nothing is imputed for the others, so it neither excludes a country "
             "nor decides the value or the rank of a country without it.").format(indicators=w.list(items))


# --------------------------------------------------------------------------------------------- clusters


def _clusters(w: Writer, cl: dict) -> str:
    _ = w.lang.gettext
    where = ("clusters", "threshold")
    cuts = cl["cut_points"]
    names = {"overall": _("the index"), "overall.input": _("input"), "overall.process": _("process"),
             "overall.outcome": _("outcome")}
    cut_text = w.list([_("{node} {value}").format(node=names[k], value=w.num(v, 2, f"cut-off {k}", where))
                       for k, v in cuts.items() if not math.isnan(v)])
    texts = [_("Countries are grouped by the rule of the ILO programme: a value is high at or above the {decile}th "
               "decile of the countries that have one (here {cuts}).").format(
        decile=w.num(cl["threshold"] * 10, 0, "decile", where), cuts=cut_text)]
    counts = cl["counts"]
    n = {c: w.num(counts[c], 0, f"countries in cluster {c}", ("clusters",)) for c in CLUSTERS}
    if not cl["sub_indexes_dropped"]:
        texts.append(_("Pacesetters ({a}) are high on the index and on all three sub-indexes; pragmatists ({b}) have "
                       "high outcomes with input or process lower; conventionals ({c}) have high input and process "
                       "but lower outcomes; every other ranked country ({d}) has much to be done.").format(
            a=n["pacesetters"], b=n["pragmatists"], c=n["conventionals"], d=n["much_to_be_done"]))
    else:
        texts.append(_("Pacesetters ({a}) are high on the index and on every sub-index the rule can use; every other "
                       "ranked country ({d}) has much to be done.").format(a=n["pacesetters"],
                                                                           d=n["much_to_be_done"]))
        for kind in cl["sub_indexes_dropped"]:
            texts.append(_("The {kind} sub-index is known for too few of the ranked countries, so it is left out of "
                           "the rule and pragmatists and conventionals cannot be told apart.").format(
                kind=_(KIND_WORDS[kind])))
    why = {"pacesetters": N_("no country is high on the index and on all three sub-indexes at once"),
           "pragmatists": N_("every country with high outcomes also has high input and process, or is a pacesetter"),
           "conventionals": N_("every country with high input and process also has high outcomes")}
    for c in ("pacesetters", "pragmatists", "conventionals"):
        if counts[c] == 0 and c in cl["clusters_possible"]:
            texts.append(_("No country is among the {cluster}: {why}.").format(cluster=_(CLUSTER_LABELS[c]).lower(),
                                                                               why=_(why[c])))
    return " ".join(texts)


# --------------------------------------------------------------------------------------------- audit


def _audit(w: Writer, result, labels, country) -> Iterator[str]:
    """One paragraph at a time, so that each paragraph's numbers are recorded with it."""
    _ = w.lang.gettext
    audit = result.audit
    where = ("audit",)
    forms = audit.forms.dropna(subset=["alpha"])
    items = [_("{form} {alpha} ({n} countries)").format(
        form=_(FORM_LABELS[f]), alpha=w.num(r["alpha"], 2, f"Cronbach's alpha {f}", ("forms", f)),
        n=w.num(r["countries"], 0, f"countries with every indicator {f}", ("forms", f))) for f, r in forms.iterrows()]
    shares = [_("{form} {share}").format(form=_(FORM_LABELS[f]),
                                         share=w.pct(r["pc1_share"], f"first component share {f}", ("forms", f)))
              for f, r in forms.iterrows()]
    text = _("Internal consistency (Cronbach's alpha of each form's indicator scores, countries with all of them): "
             "{alphas}; below about 0.6 the indicators of a form do not measure one common thing. The first principal "
             "component carries {shares} of the variance.").format(alphas=w.list(items), shares=w.list(shares))
    skipped = [f for f, r in audit.forms.iterrows() if math.isnan(r["alpha"])]
    if skipped:
        text += " " + _("Too few countries have every indicator of {forms} to compute them.").format(
            forms=w.list([_(FORM_LABELS[f]) for f in skipped]))
    yield text
    flagged = audit.flagged()
    if len(flagged):
        shown = flagged.reindex(flagged["r"].sort_values().index).head(FLAGGED_SHOWN)
        pairs = [_("{a} and {b} ({r})").format(a=labels.get(r.a, r.a), b=_node_name(r.b, labels, _),
                                               r=w.num(r.r, 2, "correlation", where))
                 for r in shown.itertuples(index=False)]
        yield (_("{n} correlations between indicators of one form, or between an indicator and its sub-index, are "
                     "negative or close to zero (below 0.1 in absolute value): the indicators pull apart, and the "
                     "index averages things that do not move together. The lowest: {pairs}.").format(
            n=w.num(len(flagged), 0, "correlations flagged", where), pairs=w.list(pairs)))
    loo = audit.leave_one_out.sort_values("mean_abs_shift", ascending=False, kind="stable").head(TOP_LEAVE_ONE_OUT)
    items = [_("{indicator} (on average {mean} places, up to {max} for {country})").format(
        indicator=labels.get(code, code), mean=w.num(r["mean_abs_shift"], 1, "mean rank shift", where),
        max=w.num(r["max_abs_shift"], 0, "largest rank shift", where), country=country(r["max_country"]))
        for code, r in loo.iterrows() if r["max_country"]]  # no country ranked both with and without it
    if items:
        yield (_("Leaving one indicator out at a time (and recomputing who has enough data), the ranks move most "
                 "without {items}.").format(items=w.list(items)))
    else:
        yield _("No country is ranked both with and without any one indicator, so what leaving an indicator out "
                "does to the ranks cannot be measured.")
    m = audit.measures
    if "gdp_pc_ppp" in m or "life_expectancy" in m:
        rs = [_("{measure}: {r}").format(measure=labels.get(k, k), r=w.num(v["r"], 2, f"correlation with {k}",
                                                                              ("audit", "plausibility", k)))
              for k, v in m.items() if k != "fit"]
        plaus = audit.plausibility.head(MOST_DIFFERENT)
        items = [_("{country} (rank {rank}, predicted {predicted})").format(
            country=country(iso3), rank=w.num(r["rank"], 0, "rank among countries with both measures", where),
            predicted=w.num(r["predicted_rank"], 0, "predicted rank", where)) for iso3, r in plaus.iterrows()]
        n = m.get("fit", {}).get("n", 0)
        yield (_("Plausibility: across the {n} ranked countries with both measures, the index correlates with "
                     "{measures} (GDP per capita in logarithms). The ranks furthest from those a linear fit on these "
                     "measures predicts are for a human to review, not to correct: {items}.").format(
            n=w.num(n, 0, "countries in the plausibility fit", where), measures=w.list(rs), items=w.list(items)))


def _node_name(node: str, labels: Mapping[str, str], _: Callable[[str], str]) -> str:
    """An indicator's name, or a sub-index's ("Income security: process (institutions and resources)")."""
    if node in labels:
        return labels[node]
    form, _sep, kind = node.partition(".")
    return f"{_(FORM_LABELS[form])}: {_(KIND_WORDS[kind])}" if kind else _(FORM_LABELS[form])


# --------------------------------------------------------------------------------------------- uncertainty


def _uncertainty(w: Writer, m: Mapping[str, Any]) -> Iterator[str]:
    _ = w.lang.gettext
    alts = []
    if m["weights_perturb"] > 0:
        alts.append(_("every weight is multiplied by a random factor between {low} and {high}").format(
            low=w.num(1 - m["weights_perturb"], 1, "weight factor", ("sensitivity", "weights")),
            high=w.num(1 + m["weights_perturb"], 1, "weight factor", ("sensitivity", "weights"))))
    if len(m["normalisation"]) > 1:
        alts.append(_("the normalisation is drawn from {items}").format(
            items=w.list([_(NORM_WORDS.get(x, x)) for x in m["normalisation"]])))
    if len(m["aggregation"]) > 1:
        alts.append(_("the aggregation from {items}").format(
            items=w.list([_(NORM_WORDS.get(x, x)) for x in m["aggregation"]])))
    if len(m["imputation_window"]) > 1:
        alts.append(_("the imputation window from {items} years").format(items=w.list([
            _(NORM_WORDS["declared"]) if x == "declared" else w.num(x, 0, "imputation window",
                                                                   ("sensitivity", "imputation_window"))
            for x in m["imputation_window"]])))
    yield (_("Ranks are recomputed for {draws} random draws in which {alternatives}. Each country's range runs from "
             "the 5th to the 95th percentile of its ranks over the draws.").format(
        draws=w.num(m["draws"], 0, "draws", ("sensitivity", "draws")),
        alternatives=w.list(alts) if alts else _("only the declared method is used")))
    top = m.get("most_influential")
    if top:
        yield (_("Varying one choice at a time, {choice} moves ranks most (on average {shift} places).").format(
            choice=_(CHOICE_WORDS.get(top, top)),
            shift=w.num(m["attribution"][top]["mean_abs_rank_shift"], 1, "mean rank shift", ("sensitivity",))))
