"""Command line: `python generate.py COMMAND …`.

Heavy libraries (pandas, matplotlib, WeasyPrint) are imported inside the commands that need them,
so `--help` and usage errors answer at once.

Exit codes: 0 success; 1 some documents failed; 2 a usage, configuration or data error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import NoReturn

from .errors import Problem, UserError
from .lifeline import one_arena
from .options import BuildOptions, parse_as_of

DEMO_DATA = Path(__file__).resolve().parent.parent / "demo" / "data"


def default_data_dir() -> Path:
    """`data/` when the user has put files there; otherwise the illustrative demo data."""
    env = os.environ.get("SESREPORT_DATA")
    if env:
        return Path(env)
    here = Path("data")
    if here.is_dir() and any(p.is_file() and not p.name.startswith(".") for p in here.rglob("*")):
        return here
    return DEMO_DATA


def _common(p: argparse.ArgumentParser, data: bool = True) -> None:
    if data:
        p.add_argument("--data", type=Path, default=None, metavar="DIR",
                       help="folder with the downloaded data files (default: data/, else the illustrative demo data)")
    p.add_argument("--config", type=Path, default=Path("config"), metavar="DIR",
                   help="folder with sources.yaml, indicators.yaml and countries/ (default: config)")


def _selection(p: argparse.ArgumentParser) -> None:
    """What to build and where: shared by build and watch."""
    p.add_argument("countries", nargs="*", metavar="ISO3", help="countries to build (default: every config)")
    _common(p)
    p.add_argument("--out", type=Path, default=Path("output"), metavar="DIR", help="output folder (default: output)")
    p.add_argument("--as-of", default=None, metavar="DATE",
                   help="build as on this date (YYYY-MM-DD): no data after its year; the date printed")
    p.add_argument("--lang", action="append", default=None, metavar="LANG",
                   help="only these languages (repeatable)")
    p.add_argument("--kind", "--document", dest="document", action="append", default=None, metavar="KIND",
                   help="only these document kinds, e.g. brief, annex, strategy (repeatable; --document is an alias)")
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                   help="parallel workers (default: number of cores)")
    p.add_argument("--format", dest="brief_format", choices=["two_page", "full"], default=None,
                   help="the form of every brief: two_page (front and back) or full (every table and chart); "
                        "default: as each country config says (format:, two_page unless set)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="generate.py",
        description="Policy documents on social and economic security, from indicator data and YAML configs.",
        epilog="Exit codes: 0 success, 1 some documents failed, 2 usage, configuration or data error.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    b = sub.add_parser("build", help="build documents (all countries, or the ISO3 codes given)",
                       description="Build country briefs and other documents as PDF and HTML. Only documents "
                                   "whose inputs changed are rebuilt.")
    _selection(b)
    b.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the documents on a Dask cluster (tcp://HOST:8786, or 'local'); the workers must see "
                        "the data, config and output folders at the same paths")
    b.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    b.add_argument("--no-cache", action="store_true", help="re-read every data file instead of using the cache")
    b.add_argument("--json", action="store_true",
                   help="also print a machine-readable summary of the build (JSON) on standard output")

    v = sub.add_parser("validate", help="check the configuration files and report every mistake",
                       description="Validate sources.yaml, indicators.yaml and every country config.")
    _common(v)

    d = sub.add_parser("data", help="inspect the data folder", description="Inspect the data folder.")
    dsub = d.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    dsub.required = True
    c = dsub.add_parser("check", help="coverage report: indicators, countries, years, sources, problems",
                        description="Read every declared file and print a coverage report and every problem found.")
    _common(c)
    c.add_argument("--no-cache", action="store_true", help="re-read every file instead of using the cache")

    w = sub.add_parser("watch", help="build, then rebuild what changed whenever a file is saved",
                       description="Build the documents, then watch the config, templates and data folders and "
                                   "rebuild the documents a change touches. Stop with Ctrl-C.")
    _selection(w)
    w.add_argument("--serve", action="store_true", help="also serve the output folder on http://127.0.0.1:PORT/")
    w.add_argument("--port", type=int, default=8000, help="port for --serve (default 8000)")

    s = sub.add_parser("serve", help="preview the built documents in a browser",
                       description="Serve the output folder on http://127.0.0.1:PORT/ (loopback only). "
                                   "Stop with Ctrl-C.")
    s.add_argument("--out", type=Path, default=Path("output"), metavar="DIR", help="output folder (default: output)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")

    f = sub.add_parser("fetch", help="download data from the publishers into the data folder",
                       description="Download bulk files from the World Bank or ILOSTAT into the data folder, "
                                   "under the names those sites give them.")
    f.add_argument("publisher", choices=["wdi", "ilostat"], help="wdi (World Bank) or ilostat (ILO)")
    f.add_argument("ids", nargs="+", metavar="ID",
                   help="indicator codes, e.g. SL.UEM.TOTL.ZS or EAR_4MTH_SEX_GEO_CUR_NB")
    f.add_argument("--data", type=Path, default=Path("data"), metavar="DIR", help="data folder (default: data)")
    f.add_argument("--base-url", default=None, metavar="URL", help="endpoint base URL (default: the publisher's)")
    f.add_argument("--config", type=Path, default=Path("config"), metavar="DIR",
                   help="folder with sources.yaml, for fetch.redirect_hosts (default: config)")
    f.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="seconds to wait for each network read (default: 60)")
    f.add_argument("--deadline", type=float, default=900.0, metavar="SECONDS",
                   help="seconds a whole download may take (default: 900)")
    f.add_argument("--max-size", type=float, default=500.0, metavar="MB",
                   help="megabytes a download, and each file unpacked from it, may have (default: 500)")
    return parser


def run() -> NoReturn:
    """The command line (`generate.py`, `sesreport`): :func:`main`, and the process ends with its code.

    What the process holds is frozen first, so that the collection Python makes as it ends skips it:
    after a build that was a quarter of a second spent scanning the data, the fonts and the templates
    for garbage the end of the process frees anyway. Exit handlers still run, and every file a command
    writes is closed before `main` returns."""
    code = main()
    gc.freeze()
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    # Arrow's own allocator keeps what a data load freed for later (about 40 MiB here); the system's
    # hands it back, so forked workers start smaller. Only takes effect before pyarrow is imported.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    one_arena()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "data":
            return cmd_data_check(args)
        if args.command == "fetch":
            return cmd_fetch(args)
        if args.command == "validate":
            return cmd_validate(args)
        if args.command == "build":
            return cmd_build(args)
        if args.command == "watch":
            return cmd_watch(args)
        if args.command == "serve":
            return cmd_serve(args)
    except UserError as exc:
        print_problems(exc.problems)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return 2


def print_problems(problems: list[Problem], stream=None) -> None:
    from rich.console import Console

    console = Console(file=stream or sys.stderr, highlight=False, soft_wrap=True)
    errors = [p for p in problems if p.severity == "error"]
    for p in problems:
        tag = "[bold red]error[/]" if p.severity == "error" else "[yellow]warning[/]"
        console.print(f"{tag}: {_escape(str(p))}")
    if errors:
        console.print(f"[bold red]{len(errors)} error{'s' if len(errors) != 1 else ''}[/]; nothing was written.")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def cmd_data_check(args) -> int:
    from .data.check import report
    from .data.load import load_dataset

    data_dir = args.data or default_data_dir()
    ds = load_dataset(data_dir, args.config, use_cache=not args.no_cache, strict=False)
    report(ds, sys.stdout)
    return 2 if ds.errors else 0


def cmd_fetch(args) -> int:
    from .data.fetch import MB, fetch
    from .data.sources import load_sources, sources_path

    sources = sources_path(args.config, args.data)
    hosts = load_sources(sources)[0].fetch.redirect_hosts if sources.is_file() else ()
    fetch(args.publisher, args.ids, args.data, base_url=args.base_url, timeout=args.timeout, deadline=args.deadline,
          max_size=args.max_size * MB, redirect_hosts=hosts)
    return 0


def cmd_validate(args) -> int:
    from .project import validate_all

    data_dir = args.data or default_data_dir()
    summary = validate_all(args.config, data_dir)
    print(summary)
    return 0


def build_options(args, **overrides) -> BuildOptions:
    """The build options the command line gives (for `build` and `watch`)."""
    fields = dict(
        data_dir=Path(args.data or default_data_dir()), config_dir=Path(args.config), out=Path(args.out),
        countries=tuple(c.upper() for c in args.countries), langs=tuple(args.lang or ()),
        kinds=tuple(args.document or ()), as_of=parse_as_of(args.as_of), jobs=args.jobs,
        force=getattr(args, "force", False), use_cache=not getattr(args, "no_cache", False),
        scheduler=getattr(args, "scheduler", None), json=getattr(args, "json", False),
        brief_format=getattr(args, "brief_format", None))
    fields.update(overrides)
    return BuildOptions(**fields)


def cmd_build(args) -> int:
    from .build import run_build

    return run_build(build_options(args))


def cmd_watch(args, stop_event=None) -> int:
    from .build import run_build
    from .preview import serve, watch
    from .render import TEMPLATES

    options = build_options(args, force=False, use_cache=True, json=False)
    if args.serve:
        server = serve(options.out, args.port)
        print(f"Serving {options.out} on http://127.0.0.1:{server.server_address[1]}/", file=sys.stderr)

    def build() -> None:
        try:
            run_build(options)
        except UserError as exc:
            print_problems(exc.problems)

    def report(change) -> None:
        if isinstance(change, float):
            print("waiting for changes (Ctrl-C to stop)", file=sys.stderr)
        else:
            names = sorted({Path(path).name for _, path in change})
            print(f"changed: {', '.join(names[:5])}{' …' if len(names) > 5 else ''}; rebuilding", file=sys.stderr)

    watch(build, [options.config_dir, TEMPLATES, options.data_dir], stop_event=stop_event, on_change=report)
    return 0


def cmd_serve(args) -> int:
    import time

    from .preview import serve

    server = serve(args.out, args.port, create=False)
    print(f"Serving {args.out} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C to stop)", file=sys.stderr)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
    return 0
