"""The project: every configuration file read and validated (catalog, country configs, composite
indices, each document kind's own config), before any data is loaded; then the checks that need
the data's list of countries."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog, load_catalog
from .config import LoadedConfig, check_references, country_files, load_country, load_defaults
from .documents import kinds
from .errors import Problem, UserError, did_you_mean, display_path


@dataclass(frozen=True)
class Project:
    """Everything configured: the catalog, the validated country configs, the composite indices and
    the configuration of each document kind that has one."""

    catalog: Catalog
    countries: dict[str, LoadedConfig]
    config_dir: Path
    indices: dict[str, Any] = field(default_factory=dict)  # index id -> IndexSpec
    organisation: dict[str, str] = field(default_factory=dict)  # the shared organisation name, by language
    configs: dict[str, Any] = field(default_factory=dict)  # document kind -> its configuration
    publisher: Any = None  # the publisher's apparatus (config/publisher.yaml): a LoadedPublisher, or None


def load_project(config_dir: Path | str, only: list[str] | None = None, brief_format: str | None = None) -> Project:
    """Load and validate every configuration file; raise one UserError listing every problem.

    `brief_format` ("two_page" or "full") overrides the format every country config asks for.
    """
    config_dir = Path(config_dir)
    if not config_dir.is_dir():
        raise UserError(Problem(display_path(config_dir), None, "configuration folder not found",
                                "pass --config DIR, the folder holding indicators.yaml and countries/"))
    catalog = load_catalog(config_dir / "indicators.yaml")
    problems: list[Problem] = []
    defaults = load_defaults(config_dir)
    loaded: dict[str, LoadedConfig] = {}
    files = country_files(config_dir)
    registry = kinds()
    per_country = sorted(name for name, k in registry.items() if k.per_country)
    for path in files:
        if only and path.stem not in only:
            continue
        cfg, found = load_country(path, defaults)
        problems.extend(found)
        if cfg:
            problems.extend(check_references(cfg, catalog, None))
            for i, name in enumerate(cfg.config.documents):
                if name not in per_country:
                    file, line = cfg.line_of(("documents", i))
                    problems.append(Problem(file, line, f"unknown document kind '{name}' for a country",
                                            did_you_mean(name, per_country) or f"use one of: {', '.join(per_country)}"))
            if brief_format:
                cfg.config = cfg.config.model_copy(update={"format": brief_format})
            loaded[cfg.config.country] = cfg
    if only:
        available = [p.stem for p in files]
        for code in only:
            if code not in available:
                problems.append(Problem(display_path(config_dir / "countries"), None, f"no configuration for '{code}'",
                                        did_you_mean(code, available) or f"create config/countries/{code}.yaml"))
    indices: dict[str, Any] = {}
    if (config_dir / "indices").is_dir():
        from .index import load_indices

        try:
            indices = load_indices(config_dir, catalog)
        except UserError as exc:
            problems.extend(exc.problems)
    index_problems = any("indices" in (p.file or "") for p in problems)
    for cfg in loaded.values():
        wanted = cfg.config.index
        if wanted and wanted not in indices and not index_problems:
            file, line = cfg.line_of(("index",))
            problems.append(Problem(file, line, f"unknown index '{wanted}'",
                                    did_you_mean(wanted, indices) or "define it in config/indices/<id>.yaml"))
    organisation = (defaults.data or {}).get("organisation") or {}
    from .publisher import load_publisher

    publisher, found = load_publisher(config_dir)
    problems.extend(found)
    project = Project(catalog, loaded, config_dir, indices, organisation, publisher=publisher)
    for name, kind in registry.items():
        config, found = kind.load_config(config_dir, project)
        if index_problems:  # a kind's reference to a broken index would only repeat the index's problem
            found = [p for p in found if "unknown index" not in p.message]
        problems.extend(found)
        if config is not None:
            project.configs[name] = config
    unique = list(dict.fromkeys(problems))  # a problem in the shared defaults shows once, not once per country
    if unique:
        raise UserError(unique)
    return project


def check_project(project: Project, known_countries: set[str], ds: Any = None) -> None:
    """The checks that need the data: every ISO3 code a config names is a known country, and each
    kind's own checks. Raises one UserError listing every problem."""
    problems: list[Problem] = []
    for loaded in project.countries.values():
        problems.extend(check_references(loaded, project.catalog, known_countries, indicators=False))
    if ds is not None:
        for kind in kinds().values():
            problems.extend(kind.check(project, ds))
    if problems:
        raise UserError(list(dict.fromkeys(problems)))


def known_countries(data_dir: Path | str, config_dir: Path | str) -> set[str]:
    """The ISO3 codes of the country classification file (the newest one the sources declare), read
    without loading and mapping the data files."""
    from .data import readers
    from .data.load import classification_file, own_sources
    from .data.sources import load_sources

    data_dir, config_dir = Path(data_dir), Path(config_dir)
    if not data_dir.is_dir():
        raise UserError(Problem(display_path(data_dir), None, "data folder not found",
                                "pass --data DIR with the folder that holds the downloaded files"))
    src_path = own_sources(config_dir, data_dir)
    cfg, located = load_sources(src_path)
    path = classification_file(cfg, located, data_dir, src_path)
    try:
        meta = readers.read_wdi_country_meta(path, display_path(path))
    except readers.FileUnreadable as exc:
        raise UserError(exc.problem) from None
    return {str(code) for code in meta.loc[meta["region"] != "", "iso3"]}  # an empty region is an aggregate


def validate_all(config_dir: Path | str, data_dir: Path | str) -> str:
    """`generate.py validate`: every configuration file, and the countries it names; a one-line summary."""
    project = load_project(config_dir)
    check_project(project, known_countries(data_dir, config_dir))
    extra = "".join(f", {name} configured" for name in sorted(project.configs))
    return (f"OK: {len(project.countries)} country configs ({', '.join(project.countries)}), "
            f"{len(project.catalog.indicators)} catalog indicators{extra}.")
