"""A generated large CSV in the ILOSTAT bulk layout in; the time and peak memory of reading it out.

    python scripts/benchmark_large_csv.py [--mb 200] [--reader-only]

Writes an ILOSTAT codes CSV (`ref_area,indicator,source,time,obs_value,…`, one value per line, as
the bulk download has it) of about the given size into a temporary folder with the illustrative
country classification, then reads it with the reader alone, and loads it whole as `generate.py data
check` would (read, map, check, resolve), each in a fresh process (`--reader-only`: the reader
alone). Prints for each the time, the processor time of every thread (on a shared machine the wall
time also counts the others' work; on an idle one it is the smaller, Arrow parsing on two threads),
the peak resident memory and its ratio to the file's size above the memory of the libraries. Nothing
is timed in the tests; these are the figures the README quotes.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
META = "wdi_api/Metadata_Country_API_DEMO_DS2_en_csv_v2_1.csv"
NAME = "ILR_TUMT_NOC_RT_A.csv"
HEADER = "ref_area,indicator,source,time,obs_value,obs_status,note_indicator,note_source\n"

CHILD = """
import json, sys, time
from pathlib import Path
from sesreport.lifeline import peak_resident
data, config, reader_only = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
start, cpu = time.perf_counter(), time.process_time()
if reader_only:
    from sesreport.data import readers
    raw = readers.read(data / "ilostat" / "{name}", "{name}", readers.ReadOptions("ilostat_codes"))
    rows = len(raw.rows)
else:
    from sesreport.data.load import load_dataset
    ds = load_dataset(data, config, use_cache=False)
    rows = len(ds.obs)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = peak_resident()
print(json.dumps({{"rows": rows, "seconds": seconds, "cpu": cpu, "peak": peak}}))
""".replace("{name}", NAME).replace("{{", "{").replace("}}", "}")

# the libraries alone, with the string arrays a first table brings in (pyarrow)
BASELINE = """
import json
import pandas, sesreport.data.load
from sesreport.lifeline import peak_resident
pandas.DataFrame({"a": ["x", "y"]}).groupby("a").size()
print(json.dumps({"peak": peak_resident()}))
"""


def write_csv(path: Path, size: int, codes: list[str]) -> int:
    """An ILOSTAT union-density file of about `size` bytes: every country, 34 years, many national sources."""
    rng = random.Random(1)
    lines = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write(HEADER)
        source = 0
        while fh.tell() < size:
            source += 1
            for code in codes:
                fh.write("".join(f"{code},ILR_TUMT_NOC_RT,BA:{source},{year},{rng.uniform(1, 90):.2f},,,\n"
                                 for year in range(1990, 2024)))
                lines += 34
    return lines


def folder(root: Path, size: int) -> tuple[Path, int]:
    data = root / "data"
    (data / "wdi_api").mkdir(parents=True)
    (data / "ilostat").mkdir()
    shutil.copy(REPO / "demo" / "data" / META, data / META)
    codes = [line.split(",")[0].strip('"') for line in (data / META).read_text(encoding="utf-8-sig").splitlines()[1:]
             if line.strip()]
    lines = write_csv(data / "ilostat" / NAME, size, [c for c in codes if c])
    (data / "sources.yaml").write_text(
        f"countries:\n  path: {META}\nsources:\n  - id: ilostat\n    path: ilostat/{NAME}\n"
        "    layout: ilostat_codes\n    publisher: International Labour Organization\n    vintage: 2026-01-01\n",
        encoding="utf-8")
    return data, lines


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200, help="size of the generated CSV in MB (default 200)")
    parser.add_argument("--reader-only", action="store_true", help="time only the reader, not the whole load")
    args = parser.parse_args()
    runs = {"reader only": "1"} if args.reader_only else {"reader only": "1",
                                                          "whole load (read, map, check, resolve)": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        data, lines = folder(Path(tmp), int(args.mb * 1e6))
        size = (data / "ilostat" / NAME).stat().st_size
        base = run(BASELINE)["peak"]
        results = {what: run(CHILD, str(data), str(REPO / "config"), flag) for what, flag in runs.items()}
    print(f"{size / 1e6:.0f} MB CSV, {lines:,} values; the libraries alone take {base / 1e6:.0f} MB")
    for what, result in results.items():
        print(f"  {what}: time {result['seconds']:.1f} s (processor {result['cpu']:.1f} s); "
              f"peak memory {result['peak'] / 1e6:.0f} MB "
              f"({(result['peak'] - base) / size:.1f} times the file above the libraries)")


if __name__ == "__main__":
    main()
