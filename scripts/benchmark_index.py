"""Time the composite index over the real data: load (from cache), compute, 1,000 Monte Carlo draws.

    .venv/bin/python scripts/benchmark_index.py [--data ../shared/data/real] [--draws 1000] [--index ses]

Target (PRODUCT.md, issue 4): the full index with 1,000 draws over all countries in under 10 s on
two cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sesreport.data.load import load_dataset  # noqa: E402
from sesreport.index import load_indices, prepare, result_from, run_sensitivity  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "real")
    parser.add_argument("--config", type=Path, default=REPO / "config")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "sesreport")
    parser.add_argument("--index", default="ses")
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    ds = load_dataset(args.data, args.config, cache_dir=args.cache)
    if not ds.from_cache:  # first run: the cache was just built; time a load from it
        print(f"build data cache     {time.perf_counter() - t0:7.3f} s")
        t0 = time.perf_counter()
        ds = load_dataset(args.data, args.config, cache_dir=args.cache)
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    spec = load_indices(args.config, ds.catalog)[args.index]
    t_config = time.perf_counter() - t0

    t0 = time.perf_counter()
    prepared = prepare(spec, ds)
    result = result_from(spec, prepared)
    t_index = time.perf_counter() - t0

    t0 = time.perf_counter()
    sens = run_sensitivity(spec, prepared=prepared, draws=args.draws)
    t_mc = time.perf_counter() - t0

    covered = result.n_ranked("overall")
    print(f"load data (cache)    {t_load:7.3f} s")
    print(f"load index config    {t_config:7.3f} s")
    print(f"compute index        {t_index:7.3f} s   ({len(result.countries)} countries, {len(spec.leaves)} indicators, "
          f"reference year {result.reference_year})")
    print(f"Monte Carlo          {t_mc:7.3f} s   ({sens.draws} draws, {sens.method['combinations']} combinations "
          "of choices, one-at-a-time attribution included)")
    print(f"index + Monte Carlo  {t_index + t_mc:7.3f} s")
    print(f"countries covered    {covered} of {len(result.countries)} (overall index); by form: "
          + ", ".join(f"{f} {result.n_ranked(f)}" for f in ("labour_market", "employment", "job", "work",
                                                            "skill_reproduction", "income", "representation")))
    print(f"most influential     {sens.most_influential} (mean absolute rank shift "
          f"{sens.attribution['mean_abs_rank_shift'].max():.1f} places)" if sens.most_influential else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
