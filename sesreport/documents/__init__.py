"""Document kinds: what a kind of document declares, and the registry the build looks them up in.

A kind takes the loaded project and the dataset and gives jobs (one document in one language),
a fingerprint per job and, for each job, a frozen :class:`Document` (template, context,
attachments, printed figures, extra files). The build, the CLI and the manifest know kinds only
through this interface, so a new kind is one module plus its templates.

Built-in kinds are listed in ``BUILTIN``; kinds from other packages register through the entry-point
group ``sesreport.documents`` (each entry names a :class:`DocumentKind` subclass).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import Problem, UserError

if TYPE_CHECKING:
    from datetime import date

    from ..data.load import Dataset
    from ..i18n import Lang
    from ..project import Project

BUILTIN = ("sesreport.documents.brief:BriefKind", "sesreport.documents.annex:AnnexKind",
           "sesreport.documents.strategy:StrategyKind", "sesreport.documents.implementation:ImplementationKind")
ENTRY_POINTS = "sesreport.documents"


@dataclass(frozen=True, order=True)
class Job:
    """One document in one language: `kind/name.lang` in the manifest and the output folder."""

    kind: str
    name: str
    lang: str

    @property
    def key(self) -> str:
        return f"{self.kind}/{self.name}.{self.lang}"

    @property
    def stem(self) -> str:
        return f"{self.name}.{self.lang}"

    @classmethod
    def from_key(cls, key: str) -> Job:
        kind, _, rest = key.partition("/")
        name, _, lang = rest.rpartition(".")
        return cls(kind, name, lang)


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF (PDF/A-3 associated file)."""

    name: str
    data: bytes
    description: str


@dataclass(frozen=True)
class ExtraPdf:
    """A PDF written beside the document's own (a slide deck), rendered from `html` only when the
    document is rendered: its HTML counts in the document's content digest, its rendering in the
    PDF stage. With `pages` set, a deck of another length is refused with `wrong_pages`, whose message
    may name the pages it has as ``{pages}``."""

    ext: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    pages: int | None = None
    wrong_pages: Problem | None = None


@dataclass(frozen=True)
class Document:
    """Everything one document prints, computed before anything is rendered or written.

    `files` are written beside the PDF and HTML under the extension given as key (for example
    ``figures.json``, ``csv``); `figures` is the record of every printed number, compared with the
    previous build's for the change log.
    """

    template: str
    context: dict[str, Any]
    attachments: tuple[Attachment, ...] = ()
    figures: tuple[dict, ...] = ()
    files: tuple[tuple[str, bytes], ...] = ()
    timings: tuple[tuple[str, float], ...] = ()
    #: the most pages the PDF may have (None: any), and what to do when it has more
    pages: int | None = None
    too_long: Problem | None = None
    #: further PDFs rendered with this one (see ExtraPdf)
    extra_pdfs: tuple[ExtraPdf, ...] = ()


@dataclass(frozen=True)
class BuildContext:
    """What a kind may read while it plans, fingerprints and builds: the project, the data and the
    composite indices computed for this run."""

    project: Project
    ds: Dataset
    as_of: date
    indices: dict[str, Any] = field(default_factory=dict)


class DocumentKind:
    """Base class of a kind of document. Subclasses set `name` and override what they need."""

    name: ClassVar[str]
    #: extensions of the files a job writes; "pdf" and "html" always come from the template
    outputs: ClassVar[tuple[str, ...]] = ("pdf", "html", "figures.json")
    #: the folder holding the kind's own templates (None: the project's templates folder only)
    templates: ClassVar[Path | None] = None
    #: documents per country (selected by the ISO3 codes given to `build`) or for the whole project
    per_country: ClassVar[bool] = False
    #: a long document (many pages, seconds to render): a batch starts its documents first, so that
    #: no worker is left rendering one while the others have nothing to do
    long: ClassVar[bool] = False

    # ---- configuration
    def load_config(self, config_dir: Path, project: Project) -> tuple[Any, list[Problem]]:
        """The kind's configuration (None when the kind is not configured), with every problem."""
        return None, []

    def check(self, project: Project, ds: Dataset) -> list[Problem]:
        """Checks that need both the configuration and the data."""
        return []

    # ---- planning
    def plan(self, project: Project, countries: list[str] | None) -> list[Job]:
        """Every document of this kind the project configures (for the countries given, if any)."""
        raise NotImplementedError

    def indices(self, project: Project, job: Job) -> set[str]:
        """Ids of the composite indices the job needs computed."""
        return set()

    def fingerprint(self, job: Job, ctx: BuildContext, data: Any) -> Any:
        """JSON-able inputs of the job beyond code, templates and date: when they are unchanged the
        document is not rebuilt. `data` digests observations (see ``fingerprint.DataFingerprints``)."""
        raise NotImplementedError

    # ---- building
    def build(self, job: Job, ctx: BuildContext, lang: Lang) -> Document:
        raise NotImplementedError

    def paths(self, job: Job, out: Path) -> dict[str, Path]:
        """Where each output of a job is written."""
        folder = out / job.kind
        return {ext: folder / f"{job.stem}.{ext}" for ext in self.outputs}


_REGISTRY: dict[str, DocumentKind] = {}
_LOADED = False


def register(kind: type[DocumentKind]) -> type[DocumentKind]:
    """Add a kind to the registry (usable as a class decorator)."""
    _REGISTRY[kind.name] = kind()
    return kind


def _load(spec: str) -> type[DocumentKind]:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def kinds() -> dict[str, DocumentKind]:
    """Every registered kind, built-in ones first, then those of installed packages."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        for spec in BUILTIN:
            register(_load(spec))
        for entry in sorted(entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
            try:
                kind = entry.load()
            except Exception as exc:  # a broken plug-in is a user's installation problem
                raise UserError(Problem(None, None, f"document kind '{entry.name}' ({entry.value}) cannot be loaded: "
                                        f"{type(exc).__name__}: {exc}",
                                        "fix or uninstall the package that provides it")) from None
            if not (isinstance(kind, type) and issubclass(kind, DocumentKind)):
                raise UserError(Problem(None, None, f"'{entry.value}' is not a document kind",
                                        "an entry point in 'sesreport.documents' must name a DocumentKind subclass"))
            register(kind)
    return dict(_REGISTRY)


def kind(name: str) -> DocumentKind:
    return kinds()[name]
