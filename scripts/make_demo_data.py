"""Write the illustrative demo data set (`demo/data/`): synthetic values in the publishers' real layouts.

`make demo` must run on a fresh clone without internet and without the real data folder, so the
repository ships a small data set that goes through the same readers as real downloads:

- `wdi_api/API_DEMO_DS2_en_csv_v2_1.csv`: a World Bank WDI bulk "API_" wide CSV (byte-order mark,
  CRLF, four preamble lines, year columns 1960–2025, trailing empty column, aggregates mixed in);
- `wdi_api/Metadata_Country_API_DEMO_DS2_en_csv_v2_1.csv`: its country classification;
- `ilostat/<INDICATOR>_A.csv`: ILOSTAT bulk files in the codes layout (byte-order mark, LF);
- `sources.yaml`: the folder describes itself as illustrative.

Countries, World Bank regions and income groups are real (the World Bank's FY2022 classification,
July 2021, as in its Metadata_Country file of that year). Every value is synthetic: smooth trends
from a few made-up traits per country (a development score, a regional labour-market profile),
plus seeded noise. They are plausible in level and trend, and they are not statistics.

Deterministic: no clock, no network; each (country, series) draws from its own stream seeded by a
hash of its name, using only `random.Random.random()`, whose sequence Python guarantees to keep.

    .venv/bin/python scripts/make_demo_data.py            # writes demo/data/
    .venv/bin/python scripts/make_demo_data.py --out DIR  # writes elsewhere (the tests compare)
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

ROOT = Path(__file__).resolve().parents[1]
SEED = "sesreport-demo-1"
LAST_UPDATED = "2025-07-01"  # the release date the demo files state; fixed, never the clock
CLASSIFICATION_VINTAGE = "2021-07-01"
YEARS = range(2000, 2025)  # modelled annual series
WDI_COLUMNS = range(1960, 2026)  # year columns of the WDI file, as in a 2025 download
PRICE_GROWTH = 0.022  # international-dollar inflation, to turn 2021 PPP $ into current PPP $
NORMAL = NormalDist()

WDI_FILE = "wdi_api/API_DEMO_DS2_en_csv_v2_1.csv"
META_FILE = "wdi_api/Metadata_Country_API_DEMO_DS2_en_csv_v2_1.csv"
DATA_SOURCE = "sesreport illustrative data (not official statistics)"

# ------------------------------------------------------------------------------------------------
# Countries: ISO3, World Bank name, region, income group (FY2022 classification), labour-market
# profile (see PROFILES) and a made-up development score in [0, 1] that drives most levels.

ECA, EAP = "Europe & Central Asia", "East Asia & Pacific"
LAC, SSA, MNA = "Latin America & Caribbean", "Sub-Saharan Africa", "Middle East & North Africa"
HI, UM, LM = "High income", "Upper middle income", "Lower middle income"

COUNTRIES = [
    ("RUS", "Russian Federation", ECA, UM, "cis", 0.68),
    ("KAZ", "Kazakhstan", ECA, UM, "cis", 0.62),
    ("UKR", "Ukraine", ECA, LM, "cis", 0.50),
    ("ARM", "Armenia", ECA, UM, "cis", 0.50),
    ("AZE", "Azerbaijan", ECA, UM, "cis", 0.52),
    ("BLR", "Belarus", ECA, UM, "cis", 0.60),
    ("GEO", "Georgia", ECA, UM, "cis", 0.50),
    ("KGZ", "Kyrgyz Republic", ECA, LM, "cis", 0.35),
    ("MDA", "Moldova", ECA, UM, "cis", 0.42),
    ("TJK", "Tajikistan", ECA, LM, "cis", 0.25),
    ("UZB", "Uzbekistan", ECA, LM, "cis", 0.35),
    ("TKM", "Turkmenistan", ECA, UM, "cis", 0.50),
    ("TUR", "Turkey", ECA, UM, "tur", 0.65),
    ("POL", "Poland", ECA, HI, "cee", 0.80),
    ("ROU", "Romania", ECA, UM, "cee", 0.72),
    ("BGR", "Bulgaria", ECA, UM, "cee", 0.70),
    ("FRA", "France", ECA, HI, "weu", 0.92),
    ("ESP", "Spain", ECA, HI, "weu", 0.88),
    ("DEU", "Germany", ECA, HI, "weu", 0.95),
    ("IDN", "Indonesia", EAP, LM, "eap", 0.45),
    ("MYS", "Malaysia", EAP, UM, "eap", 0.70),
    ("PHL", "Philippines", EAP, LM, "eap", 0.40),
    ("THA", "Thailand", EAP, UM, "eap", 0.60),
    ("VNM", "Vietnam", EAP, LM, "eap", 0.42),
    ("KHM", "Cambodia", EAP, LM, "eap", 0.28),
    ("LAO", "Lao PDR", EAP, LM, "eap", 0.30),
    ("MNG", "Mongolia", EAP, LM, "eap", 0.42),
    ("CHN", "China", EAP, UM, "eap", 0.60),
    ("MMR", "Myanmar", EAP, LM, "eap", 0.25),
    ("PNG", "Papua New Guinea", EAP, LM, "eap", 0.20),
    ("TLS", "Timor-Leste", EAP, LM, "eap", 0.22),
    ("COL", "Colombia", LAC, UM, "lac", 0.55),
    ("PER", "Peru", LAC, UM, "lac", 0.55),
    ("MEX", "Mexico", LAC, UM, "lac", 0.62),
    ("ARG", "Argentina", LAC, UM, "lac", 0.65),
    ("BOL", "Bolivia", LAC, LM, "lac", 0.40),
    ("SEN", "Senegal", SSA, LM, "ssa", 0.20),
    ("CIV", "Côte d'Ivoire", SSA, LM, "ssa", 0.22),
    ("MAR", "Morocco", MNA, LM, "mena", 0.40),
    ("TUN", "Tunisia", MNA, LM, "mena", 0.47),
]

# Aggregates as the World Bank codes them; here each is the unweighted mean of the demo countries in it.
AGGREGATES = [
    ("WLD", "World", lambda c: True),
    ("ECS", "Europe & Central Asia", lambda c: c.region == ECA),
    ("EAS", "East Asia & Pacific", lambda c: c.region == EAP),
    ("LCN", "Latin America & Caribbean", lambda c: c.region == LAC),
    ("SSF", "Sub-Saharan Africa", lambda c: c.region == SSA),
    ("MEA", "Middle East & North Africa", lambda c: c.region == MNA),
    ("HIC", "High income", lambda c: c.income == HI),
    ("UMC", "Upper middle income", lambda c: c.income == UM),
    ("LMC", "Lower middle income", lambda c: c.income == LM),
]
AGGREGATE_NOTE = "Illustrative aggregate: unweighted mean of the demo countries in this group (synthetic)."

# Regional labour-market profiles (all made up). Ranges are drawn from once per country.
#   unemp: base unemployment; fem: female/total unemployment excess; lfp_f, lfp_m: participation
#   (2000) and yearly slopes; vuln: multiplier on vulnerable employment; gini: range and yearly
#   slope; union: density range; informal: multiplier; survey: years between household surveys;
#   crisis: amplitude of the 2009 and 2020 shocks on unemployment; growth: extra GDP growth;
#   le, health: level shifts of life expectancy and government health spending; fshare: women's
#   share of employees.
PROFILES = {
    "cis": dict(unemp=(5, 10), fem=-0.05, lfp_f=(50, 60, 0.05), lfp_m=(67, 75, -0.05), vuln=0.5,
                gini=(27, 36, -0.05), union=(28, 48), informal=0.55, survey=1, crisis=(1.0, 1.0),
                growth=0.01, le=-3.5, health=-0.5, fshare=0.5),
    "cee": dict(unemp=(6, 12), fem=0.0, lfp_f=(45, 52, 0.1), lfp_m=(60, 68, 0.0), vuln=0.6,
                gini=(30, 36, 0.0), union=(12, 22), informal=0.5, survey=1, crisis=(1.2, 0.8),
                growth=0.01, le=-1.5, health=0.0, fshare=0.48),
    "weu": dict(unemp=(6, 12), fem=0.1, lfp_f=(45, 52, 0.2), lfp_m=(60, 66, -0.1), vuln=1.0,
                gini=(29, 35, 0.0), union=(8, 20), informal=1.0, survey=1, crisis=(1.8, 0.8),
                growth=0.0, le=1.0, health=1.0, fshare=0.48),
    "tur": dict(unemp=(8, 11), fem=0.25, lfp_f=(25, 30, 0.45), lfp_m=(70, 74, -0.05), vuln=1.0,
                gini=(40, 43, 0.0), union=(8, 12), informal=0.9, survey=1, crisis=(1.2, 1.0),
                growth=0.01, le=0.0, health=0.0, fshare=0.3),
    "eap": dict(unemp=(1.5, 5), fem=0.0, lfp_f=(45, 72, -0.1), lfp_m=(74, 82, -0.1), vuln=1.0,
                gini=(33, 42, -0.05), union=(4, 18), informal=1.0, survey=3, crisis=(0.3, 0.6),
                growth=0.015, le=0.5, health=-0.3, fshare=0.42),
    "lac": dict(unemp=(5, 9), fem=0.3, lfp_f=(45, 55, 0.3), lfp_m=(75, 80, -0.05), vuln=0.8,
                gini=(42, 52, -0.35), union=(8, 18), informal=1.0, survey=1, crisis=(0.8, 1.5),
                growth=0.0, le=2.0, health=0.5, fshare=0.42),
    "ssa": dict(unemp=(4, 8), fem=0.2, lfp_f=(35, 50, 0.1), lfp_m=(62, 70, 0.0), vuln=1.05,
                gini=(36, 42, 0.0), union=(10, 25), informal=1.05, survey=5, crisis=(0.3, 0.8),
                growth=-0.005, le=-2.0, health=-0.3, fshare=0.35),
    "mena": dict(unemp=(9, 14), fem=0.6, lfp_f=(20, 28, -0.05), lfp_m=(70, 75, -0.1), vuln=0.9,
                 gini=(33, 40, -0.05), union=(5, 15), informal=1.0, survey=5, crisis=(0.5, 1.0),
                 growth=0.0, le=2.0, health=0.0, fshare=0.2),
}

# Whole series left out on purpose, so that "no data" is exercised (catalog code -> countries).
NO_DATA = {
    "gini": {"TKM"}, "poverty_300": {"TKM"}, "poverty_national": {"TKM", "PNG"},
    "income_share_q1": {"TKM"}, "child_employment": {"TKM", "FRA", "ESP", "DEU", "POL"},
    "union_density": {"TKM", "LAO", "MMR", "TLS"}, "informal_employment": {"TKM", "CHN"},
    "earnings_ppp": {"TKM", "MMR", "PNG", "TLS"}, "earnings_ppp_female": {"TKM", "MMR", "PNG", "TLS"},
    "earnings_ppp_male": {"TKM", "MMR", "PNG", "TLS"}, "health_expenditure": {"TLS"},
}

# WDI series: catalog code -> (source code, the publisher's name, decimals written).
WDI_SERIES = {
    "unemployment": ("SL.UEM.TOTL.ZS", "Unemployment, total (% of total labor force) (modeled ILO estimate)", 3),
    "unemployment_female": ("SL.UEM.TOTL.FE.ZS",
                            "Unemployment, female (% of female labor force) (modeled ILO estimate)", 3),
    "unemployment_male": ("SL.UEM.TOTL.MA.ZS", "Unemployment, male (% of male labor force) (modeled ILO estimate)", 3),
    "employment_ratio": ("SL.EMP.TOTL.SP.ZS",
                         "Employment to population ratio, 15+, total (%) (modeled ILO estimate)", 3),
    "lfp_female": ("SL.TLF.CACT.FE.ZS",
                   "Labor force participation rate, female (% of female population ages 15+) (modeled ILO estimate)",
                   3),
    "lfp_male": ("SL.TLF.CACT.MA.ZS",
                 "Labor force participation rate, male (% of male population ages 15+) (modeled ILO estimate)", 3),
    "vulnerable_emp_female": ("SL.EMP.VULN.FE.ZS",
                              "Vulnerable employment, female (% of female employment) (modeled ILO estimate)", 3),
    "vulnerable_emp_male": ("SL.EMP.VULN.MA.ZS",
                            "Vulnerable employment, male (% of male employment) (modeled ILO estimate)", 3),
    "child_employment": ("SL.TLF.0714.ZS", "Children in employment, total (% of children ages 7-14)", 1),
    "gini": ("SI.POV.GINI", "Gini index (World Bank estimate)", 1),
    "poverty_300": ("SI.POV.DDAY", "Poverty headcount ratio at $3.00 a day (2021 PPP) (% of population)", 1),
    "poverty_national": ("SI.POV.NAHC", "Poverty headcount ratio at national poverty lines (% of population)", 1),
    "income_share_q1": ("SI.DST.FRST.20", "Income share held by lowest 20%", 1),
    "life_expectancy": ("SP.DYN.LE00.IN", "Life expectancy at birth, total (years)", 3),
    "health_expenditure": ("SH.XPD.GHED.GD.ZS", "Domestic general government health expenditure (% of GDP)", 3),
    "gdp_pc_ppp": ("NY.GDP.PCAP.PP.CD", "GDP per capita, PPP (current international $)", 2),
}
# Modelled series also get aggregates, as in WDI; survey-based ones do not.
AGGREGATED = ["unemployment", "unemployment_female", "unemployment_male", "employment_ratio", "lfp_female",
              "lfp_male", "vulnerable_emp_female", "vulnerable_emp_male", "life_expectancy",
              "health_expenditure", "gdp_pc_ppp"]

ILO_UNION = "ILR_TUMT_NOC_RT"
ILO_INFORMAL = "SDG_0831_SEX_ECO_RT"
ILO_EARNINGS = "EAR_4MTH_SEX_GEO_CUR_NB"
EARNINGS = {"SEX_T": "earnings_ppp", "SEX_M": "earnings_ppp_male", "SEX_F": "earnings_ppp_female"}
EARNINGS_BREAKS = ("KAZ", "IDN")  # obs_status B (break in series) on the first year published from 2016
SURVEY_SOURCE = {"BA": 9100, "FX": 9500}  # made-up ILOSTAT source ids (household survey, administrative records)


@dataclass(frozen=True)
class Country:
    iso3: str
    name: str
    region: str
    income: str
    profile: str
    dev: float

    @property
    def p(self) -> dict:
        return PROFILES[self.profile]


# ------------------------------------------------------------------------------------------------
# Randomness


class Stream:
    """Seeded draws for one (country, series); independent of every other stream."""

    def __init__(self, *key: str):
        digest = hashlib.sha256("|".join((SEED,) + key).encode()).digest()
        self.rng = random.Random(int.from_bytes(digest[:8], "big"))

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self.rng.random()

    def normal(self, sd: float = 1.0) -> float:
        u = min(max(self.rng.random(), 1e-12), 1 - 1e-12)
        return sd * NORMAL.inv_cdf(u)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def ar1(self, years, sd: float, phi: float = 0.7) -> dict[int, float]:
        """Smooth noise: a stationary AR(1) path with standard deviation `sd`."""
        out, x = {}, self.normal(sd)
        for year in years:
            out[year] = x
            x = phi * x + self.normal(sd * math.sqrt(1 - phi * phi))
        return out


def clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


# ------------------------------------------------------------------------------------------------
# The model: every series of one country, as {catalog code: {year: value}}


def survey_years(c: Country) -> list[int]:
    """Years with a household survey: near-annual in Europe and Latin America, every few years elsewhere."""
    s = Stream(c.iso3, "surveys")
    gap = c.p["survey"]
    if gap == 1:
        start = 2004 if c.profile == "weu" else 2001
        return [y for y in range(start, 2023) if s.chance(0.85)]
    years, y = [], 2000 + int(s.uniform(0, gap + 1))
    while y <= 2023:
        years.append(y)
        y += gap - 1 + int(s.uniform(0, 3))
    return years


def gdp_real(c: Country) -> dict[int, float]:
    """GDP per capita in 2021 international dollars: growth with shared shocks, scaled to a 2024 level."""
    s = Stream(c.iso3, "gdp")
    base = 0.008 + 0.02 * (1 - c.dev) + c.p["growth"] + s.normal(0.005)
    shock = {2009: {"cis": -0.09, "cee": -0.05, "weu": -0.05, "tur": -0.06, "lac": -0.03}.get(c.profile, -0.01),
             2015: -0.03 if c.profile == "cis" else 0.0, 2020: -0.03 if c.profile == "eap" else -0.06, 2021: 0.045}
    path, level = {}, 1.0
    for year in YEARS:
        path[year] = level
        level *= 1 + base + shock.get(year + 1, 0.0) + s.normal(0.012)
    target = 2200 * math.exp(c.dev * 3.5 + s.normal(0.12))
    return {y: v * target / path[2024] for y, v in path.items()}


def model(c: Country) -> dict[str, dict[int, float]]:
    p = c.p
    out: dict[str, dict[int, float]] = {}

    # Economy and health
    real = gdp_real(c)
    out["gdp_pc_ppp"] = {y: v * (1 + PRICE_GROWTH) ** (y - 2021) for y, v in real.items()}
    s = Stream(c.iso3, "life")
    le0 = 61 + 19 * c.dev + p["le"] + s.normal(0.8)
    gain = 0.22 * (1.2 - c.dev) + (0.1 if c.profile == "cis" else 0.0)
    covid = {2020: -1.2, 2021: -3.0 if c.profile == "cis" else -2.0, 2022: -0.5}
    noise = s.ar1(YEARS, 0.15)
    out["life_expectancy"] = {y: clip(le0 + gain * (y - 2000) + covid.get(y, 0) + noise[y], 60, 85)
                              for y in YEARS if y <= 2023}
    s = Stream(c.iso3, "health")
    h0 = 0.8 + 7 * c.dev ** 1.5 + p["health"] + s.normal(0.4)
    bump = {2020: 0.7, 2021: 0.5, 2022: 0.2}
    noise = s.ar1(YEARS, 0.12)
    out["health_expenditure"] = {y: clip(h0 + 0.02 * (y - 2000) + bump.get(y, 0) + noise[y], 0.3, 12)
                                 for y in YEARS if y <= 2022 and not s.chance(0.03)}

    # Labour market (modelled estimates: every year)
    s = Stream(c.iso3, "unemployment")
    u0 = s.uniform(*p["unemp"])
    a09, a20 = p["crisis"]
    crisis09 = {2009: 1.5, 2010: 1.8, 2011: 1.2, 2012: 0.9, 2013: 0.7, 2014: 0.4}
    crisis20 = {2020: 1.6, 2021: 1.0, 2022: 0.3}
    transition = 3.0 if c.profile in ("cis", "cee") else 0.0
    noise = s.ar1(YEARS, 0.3)
    total = {y: clip(u0 + transition * max(0, (2006 - y) / 6) + a09 * crisis09.get(y, 0)
                     + a20 * crisis20.get(y, 0) - 0.04 * (y - 2000) + noise[y], 0.5, 30) for y in YEARS}
    s = Stream(c.iso3, "participation")
    f0, m0 = s.uniform(*p["lfp_f"][:2]), s.uniform(*p["lfp_m"][:2])
    dip = {2020: -1.0, 2021: -0.5}
    nf, nm = s.ar1(YEARS, 0.25), s.ar1(YEARS, 0.2)
    lfp_f = {y: clip(f0 + p["lfp_f"][2] * (y - 2000) + dip.get(y, 0) + nf[y], 10, 85) for y in YEARS}
    lfp_m = {y: clip(m0 + p["lfp_m"][2] * (y - 2000) + dip.get(y, 0) + nm[y], 50, 90) for y in YEARS}
    excess = p["fem"] + s.normal(0.08)
    female, male, ratio = {}, {}, {}
    for y in YEARS:
        share_f = lfp_f[y] / (lfp_f[y] + lfp_m[y])  # women's share of the labour force (equal populations)
        female[y] = clip(total[y] * (1 + excess), 0.3, 40)
        male[y] = clip((total[y] - share_f * female[y]) / (1 - share_f), 0.3, 40)
        active = 0.52 * lfp_f[y] + 0.48 * lfp_m[y]
        ratio[y] = active * (1 - total[y] / 100)
    out.update(unemployment=total, unemployment_female=female, unemployment_male=male,
               employment_ratio=ratio, lfp_female=lfp_f, lfp_male=lfp_m)
    s = Stream(c.iso3, "vulnerable")
    v0 = clip(85 * (1 - c.dev) ** 1.1 * p["vuln"] * math.exp(s.normal(0.1)), 2, 92)
    fall = 0.5 * (1 - c.dev)
    nv = s.ar1(YEARS, 0.3)
    vf = {y: clip(v0 - fall * (y - 2000) + nv[y], 1, 95) for y in YEARS}
    out["vulnerable_emp_female"] = vf
    out["vulnerable_emp_male"] = {y: clip(v * (0.75 + 0.65 * c.dev), 1, 95) for y, v in vf.items()}

    # Household surveys: inequality and poverty from a lognormal distribution of consumption
    years = survey_years(c)
    s = Stream(c.iso3, "inequality")
    g0 = s.uniform(*p["gini"][:2])
    share = 0.38 + 0.15 * c.dev + s.normal(0.03)
    national_k = s.uniform(0.7, 1.1)
    relative_line = c.profile in ("weu", "cee")
    gini, pov, nat, q1 = {}, {}, {}, {}
    for y in years:
        g = clip(g0 + p["gini"][2] * (y - 2000) + s.normal(0.6), 22, 60)
        sigma = math.sqrt(2) * NORMAL.inv_cdf((g / 100 + 1) / 2)
        mean = real[min(y, 2024)] * share / 365  # survey mean per person per day, 2021 PPP $
        mu = math.log(mean) - sigma ** 2 / 2
        if relative_line:
            line = 0.6 * math.exp(mu)  # 60 % of the median
        else:
            # an absolute national line, fixed in real terms, higher where people are better off
            line = national_k * 3.0 * (real[2005] * share / 365 / 3.0) ** 0.6
        gini[y] = g
        pov[y] = 100 * NORMAL.cdf((math.log(3.0) - mu) / sigma)
        nat[y] = clip(100 * NORMAL.cdf((math.log(line) - mu) / sigma) + s.normal(0.5), 0.5, 85)
        q1[y] = 100 * NORMAL.cdf(NORMAL.inv_cdf(0.2) - sigma) + s.normal(0.1)
    out["gini"] = gini
    out["poverty_300"] = pov
    out["poverty_national"] = {y: v for y, v in nat.items() if Stream(c.iso3, "nahc", str(y)).chance(0.7)}
    out["income_share_q1"] = q1
    s = Stream(c.iso3, "child")
    picks = sorted({2000 + int(s.uniform(0, 20)) for _ in range(2 + int(s.uniform(0, 3)))})
    level = 40 * (1 - c.dev) ** 2 * (0.5 if c.profile in ("cis", "cee") else 1.0) * math.exp(s.normal(0.2))
    out["child_employment"] = {y: clip(level * 0.97 ** (y - 2000), 0.3, 50) for y in picks}

    # Series published by ILOSTAT (written by the ILOSTAT writers below)
    s = Stream(c.iso3, "union")
    u_level, u_fall = s.uniform(*p["union"]), s.uniform(0.005, 0.02)
    out["union_density"] = {y: u_level * (1 - u_fall) ** (y - 2000) * math.exp(s.normal(0.015)) for y in YEARS}
    s = Stream(c.iso3, "informal")
    i_level = clip(95 * (1 - c.dev) ** 0.7 * p["informal"] * math.exp(s.normal(0.05)), 5, 96)
    out["informal_employment"] = {y: clip(i_level - 0.3 * (y - 2010) + s.normal(0.6), 3, 97)
                                  for y in range(2010, 2024) if s.chance(0.7)}
    s = Stream(c.iso3, "earnings")
    ratio_gdp = 1.2 - 0.35 * c.dev + s.normal(0.05)
    total = {y: out["gdp_pc_ppp"][y] * ratio_gdp / 12 * math.exp(s.normal(0.03))
             for y in range(2010, 2024) if s.chance(0.75)}
    gap, fshare = s.uniform(0.75, 0.92), clip(p["fshare"] + s.normal(0.04), 0.15, 0.55)
    men = {y: t / (fshare * gap + 1 - fshare) for y, t in total.items()}  # the total is the employee-weighted mean
    out["earnings_ppp"], out["earnings_ppp_male"] = total, men
    out["earnings_ppp_female"] = {y: gap * m for y, m in men.items()}

    for code, isos in NO_DATA.items():
        if c.iso3 in isos:
            out[code] = {}
    return out


# ------------------------------------------------------------------------------------------------
# Writers, in the publishers' layouts


def number(value: float, decimals: int) -> str:
    """A value as publishers write it: rounded, no trailing zeros."""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def quoted(cells: list[str]) -> str:
    """One WDI line: every cell quoted, and a trailing comma (an empty last column)."""
    return "".join('"' + cell.replace('"', '""') + '",' for cell in cells)


def write(path: Path, lines: list[str], newline: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\ufeff" + "".join(line + newline for line in lines)).encode("utf-8"))


def wdi_file(countries: list[Country], series: dict[str, dict[str, dict[int, float]]]) -> list[str]:
    lines = [quoted(["Data Source", DATA_SOURCE]), "", quoted(["Last Updated Date", LAST_UPDATED]), "",
             quoted(["Country Name", "Country Code", "Indicator Name", "Indicator Code"]
                    + [str(y) for y in WDI_COLUMNS])]
    areas = [(c.iso3, c.name) for c in countries] + [(code, name) for code, name, _ in AGGREGATES]
    for code, name in sorted(areas):
        for ind, (src, label, decimals) in WDI_SERIES.items():
            values = series[code].get(ind, {})
            cells = [number(values[y], decimals) if y in values else "" for y in WDI_COLUMNS]
            lines.append(quoted([name, code, label, src] + cells))
    return lines


def aggregate(countries: list[Country], series: dict) -> None:
    """Add aggregate rows to `series`: the mean of the members' values, year by year."""
    for code, _, member in AGGREGATES:
        members = [c.iso3 for c in countries if member(c)]
        series[code] = {}
        for ind in AGGREGATED:
            values = {}
            for year in YEARS:
                got = [series[m][ind][year] for m in members if year in series[m][ind]]
                if got:
                    values[year] = sum(got) / len(got)
            series[code][ind] = values


def metadata_file(countries: list[Country]) -> list[str]:
    rows = [(c.iso3, c.region, c.income, "", c.name) for c in countries]
    rows += [(code, "", "", AGGREGATE_NOTE, name) for code, name, _ in AGGREGATES]
    return [quoted(["Country Code", "Region", "IncomeGroup", "SpecialNotes", "TableName"])] + [
        quoted(list(row)) for row in sorted(rows)]


def source_id(c: Country, kind: str) -> str:
    """A made-up ILOSTAT source code, e.g. `BA:9100` (BA: household survey; FX: administrative records)."""
    return f"{kind}:{SURVEY_SOURCE[kind] + [row[0] for row in COUNTRIES].index(c.iso3)}"


def union_file(countries: list[Country], series: dict) -> list[str]:
    """Trade union density: irregular years, one source per country; Ukraine has two that overlap."""
    lines = ["ref_area,indicator,source,time,obs_value,note_indicator,note_source"]
    for c in sorted(countries, key=lambda c: c.iso3):
        values = series[c.iso3]["union_density"]
        if not values:
            continue
        s = Stream(c.iso3, "union-years")
        start = 2000 + int(s.uniform(0, 10))
        years = [y for y in range(start, 2023) if s.chance(0.65)] or [start]
        kind = "FX" if c.profile in ("cis", "weu", "cee") else "BA"
        rows = [(source_id(c, kind), y, values[y]) for y in years]
        if c.iso3 == "UKR":  # a second, survey-based source for the later years, a little lower
            rows = [(source_id(c, "FX"), y, values[y]) for y in range(2000, 2013)]
            rows += [(source_id(c, "BA"), y, values[y] - 3.0 + s.normal(0.5)) for y in range(2008, 2021, 2)]
        for src, year, value in sorted(rows):
            lines.append(f"{c.iso3},{ILO_UNION},{src},{year},{number(value, 2)},,")
    return lines


def informal_file(countries: list[Country], series: dict) -> list[str]:
    lines = ["ref_area,indicator,source,sex,classif1,time,obs_value,obs_status,note_classif,note_indicator,"
             "note_source"]
    for c in sorted(countries, key=lambda c: c.iso3):
        for year, value in sorted(series[c.iso3]["informal_employment"].items()):
            lines.append(f"{c.iso3},{ILO_INFORMAL},{source_id(c, 'BA')},SEX_T,ECO_AGNAG_TOTAL,{year},"
                         f"{number(value, 1)},,,,")
    return lines


def earnings_file(countries: list[Country], series: dict) -> list[str]:
    """Monthly earnings in 2021 PPP $, national, by sex; a break in series for a few countries."""
    lines = ["ref_area,indicator,source,sex,classif1,classif2,time,obs_value,obs_status,note_classif,"
             "note_indicator,note_source"]
    for c in sorted(countries, key=lambda c: c.iso3):
        years = sorted(series[c.iso3]["earnings_ppp"])
        broken = next((y for y in years if y >= 2016), None) if c.iso3 in EARNINGS_BREAKS else None
        for sex, code in EARNINGS.items():  # one series after another, as ILOSTAT's bulk files are sorted
            values = series[c.iso3][code]
            for year in sorted(values):
                status = "B" if year == broken else ""
                lines.append(f"{c.iso3},{ILO_EARNINGS},{source_id(c, 'BA')},{sex},GEO_COV_NAT,CUR_TYPE_PPP,"
                             f"{year},{number(values[year], 3)},{status},,,")
    return lines


WDI_ATTRIBUTION = ("Synthetic values generated by sesreport (scripts/make_demo_data.py) in the World Bank WDI bulk "
                   "layout; not World Bank data.")
ILO_ATTRIBUTION = ("Synthetic values generated by sesreport (scripts/make_demo_data.py) in the ILOSTAT bulk codes "
                   "layout; not ILO data.")

SOURCES_YAML = f"""\
# Illustrative data for the demo: synthetic values in the publishers' real layouts, written by
# scripts/make_demo_data.py (do not edit by hand; run the script). Not official statistics.
# The countries and their World Bank regions and income groups are real; every number is made up.
illustrative: true
notice: "Illustrative data — not official statistics"

countries:
  # World Bank FY2022 classification (July 2021); an entry with an empty region is an aggregate.
  path: {META_FILE}
  vintage: {CLASSIFICATION_VINTAGE}

sources:
  - id: demo_wdi
    path: "wdi_api/API_*.csv"
    layout: wdi_api
    publisher: "sesreport (illustrative)"
    title: "Illustrative indicators in the World Bank WDI layout"
    licence: "CC0 (synthetic)"
    attribution: "{WDI_ATTRIBUTION}"

  - id: demo_ilostat
    path: "ilostat/*_A.csv"
    layout: ilostat_codes
    publisher: "sesreport (illustrative)"
    title: "Illustrative indicators in the ILOSTAT bulk layout"
    licence: "CC0 (synthetic)"
    attribution: "{ILO_ATTRIBUTION}"
    vintage: {LAST_UPDATED}

precedence:
  rules: [newest_vintage, source_order, longest_series, source_code]
  source_order: [demo_wdi, demo_ilostat]
  indicators:
    # several national sources per country: keep one consistent series rather than the latest file
    union_density: [longest_series, newest_vintage, source_code]
    informal_employment: [longest_series, newest_vintage, source_code]
"""


def generate(out: Path) -> list[Path]:
    """Write every demo file under `out`; return the paths written."""
    countries = [Country(*row) for row in COUNTRIES]
    series = {c.iso3: model(c) for c in countries}
    aggregate(countries, series)
    files = {
        WDI_FILE: (wdi_file(countries, series), "\r\n"),
        META_FILE: (metadata_file(countries), "\r\n"),
        f"ilostat/{ILO_UNION}_A.csv": (union_file(countries, series), "\n"),
        f"ilostat/{ILO_INFORMAL}_A.csv": (informal_file(countries, series), "\n"),
        f"ilostat/{ILO_EARNINGS}_A.csv": (earnings_file(countries, series), "\n"),
    }
    written = []
    for rel, (lines, newline) in files.items():
        write(out / rel, lines, newline)
        written.append(out / rel)
    (out / "sources.yaml").write_bytes(SOURCES_YAML.encode("utf-8"))
    written.append(out / "sources.yaml")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the illustrative demo data set (synthetic values).")
    parser.add_argument("--out", type=Path, default=ROOT / "demo" / "data", metavar="DIR",
                        help="output folder (default: demo/data in the repository)")
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
