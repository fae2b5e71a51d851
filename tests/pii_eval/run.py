"""Score `detect()` on the committed corpus: per-type precision, recall, F2, latency.

    python -m tests.pii_eval.run [--examples N] [--no-ner]

Then, unless --no-ner, the same for PERSON, LOCATION and ORGANIZATION with
the validators and NER run together (`detect` + `detect_names`, overlaps
resolved), next to what the spaCy model finds alone, and their latency; and
their totals on the held-out samples of tests/pii_eval/ner_heldout.py, other
templates that the rules were never tuned on.

A report, not a test: it always exits 0 and says which targets of issue 5
are met. Exact matching needs the predicted span to equal the gold span and
type; overlap matching accepts any shared character with a span of the same
type. `--examples N` prints up to N misses and false positives per type.
"""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from gateway.proxy.errors import NerUnavailable
from gateway.proxy.pii import ENTITY_TYPES, Finding, detect
from gateway.proxy.pii.ner import NER_ENTITIES, NameModel, detect_names, shared_model
from gateway.proxy.pii.ner_rules import LABELS
from gateway.proxy.pii.spans import resolve_overlaps
from tests.pii_eval.corpus import NER_TYPES, GoldSpan, Sample, load
from tests.pii_eval.ner_corpus import NER_ID_PREFIX
from tests.pii_eval.ner_heldout import heldout_samples

BETA = 2.0
# (entity types, precision at least, recall at least), from issue 5 item 6.
TARGETS: tuple[tuple[tuple[str, ...], float, float], ...] = (
    (("CREDIT_CARD", "IBAN", "US_SSN", "EMAIL", "IP_ADDRESS"), 0.98, 0.99),
    (("PHONE",), 0.90, 0.95),
)
VALIDATOR_P50_MS_PER_KB = 2.0
PERSON_PRECISION, PERSON_RECALL = 0.85, 0.92
NER_P50_MS_PER_KB = 40.0
# The model costs ~20x the validators; two runs keep the report near a minute.
NER_TIMING_RUNS = 2
# Prompt sizes whose latency is shown besides the per-sample figures.
NER_SIZES_KB = (0.5, 2.0, 8.0)
WARMUP_SAMPLES = 200
# Each sample is timed as the best of this many runs, as timeit does: the
# machine is shared, and a scheduler pause is not the detector's cost.
TIMING_RUNS = 3


@dataclass
class _Tally:
    gold: int = 0
    predicted: int = 0
    exact: int = 0
    overlap_predicted: int = 0
    overlap_gold: int = 0
    missed_variants: Counter[str] = field(default_factory=Counter)
    gold_variants: Counter[str] = field(default_factory=Counter)
    false_positive_sources: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)


def _overlaps(start: int, end: int, other_start: int, other_end: int) -> bool:
    return start < other_end and other_start < end


def _excerpt(text: str, start: int, end: int) -> str:
    before = text[max(0, start - 30) : start]
    return repr(before + "[[" + text[start:end] + "]]" + text[end : end + 15])


def _fp_source(sample: Sample, finding: Finding) -> str:
    """Name what a false positive landed on: a gold span of another type, a distractor, text."""
    for span in sample["spans"]:
        if _overlaps(finding.start, finding.end, span["start"], span["end"]):
            if span["entity"] == finding.entity:
                return "boundary"
            return "gold " + span["entity"]
    for distractor in sample["distractors"]:
        if _overlaps(finding.start, finding.end, distractor["start"], distractor["end"]):
            return "negative " + distractor["kind"]
    return "template text (" + sample["template"] + ")"


def _score(
    sample: Sample,
    findings: list[Finding],
    tallies: dict[str, _Tally],
    scored: frozenset[str] = ENTITY_TYPES,
) -> None:
    """Count `findings` of the `scored` types against the sample's gold spans."""
    findings = [finding for finding in findings if finding.entity in scored]
    golds: dict[str, list[GoldSpan]] = defaultdict(list)
    for span in sample["spans"]:
        if span["entity"] in scored:
            golds[span["entity"]].append(span)
    exact = {(s["entity"], s["start"], s["end"]) for s in sample["spans"]}
    for finding in findings:
        tally = tallies[finding.entity]
        tally.predicted += 1
        same_type = golds[finding.entity]
        if (finding.entity, finding.start, finding.end) in exact:
            tally.exact += 1
        else:
            tally.false_positive_sources[_fp_source(sample, finding)] += 1
            tally.false_positives.append(
                f"{sample['id']} {_excerpt(sample['text'], finding.start, finding.end)}"
            )
        if any(_overlaps(finding.start, finding.end, s["start"], s["end"]) for s in same_type):
            tally.overlap_predicted += 1
    for entity, spans in golds.items():
        tally = tallies[entity]
        for span in spans:
            tally.gold += 1
            tally.gold_variants[span["variant"]] += 1
            found = [f for f in findings if f.entity == entity]
            if any(_overlaps(f.start, f.end, span["start"], span["end"]) for f in found):
                tally.overlap_gold += 1
            if not any(f.start == span["start"] and f.end == span["end"] for f in found):
                tally.missed_variants[span["variant"]] += 1
                got = [f"{f.entity}{f.start, f.end}" for f in findings if f.start < span["end"]]
                tally.misses.append(
                    f"{sample['id']} {span['variant']}: "
                    f"{_excerpt(sample['text'], span['start'], span['end'])} got {got[-2:]}"
                )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 1.0


def _f_beta(precision: float, recall: float) -> float:
    denominator = BETA * BETA * precision + recall
    return (1 + BETA * BETA) * precision * recall / denominator if denominator else 0.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str]) -> int:
    examples = int(argv[argv.index("--examples") + 1]) if "--examples" in argv else 0
    samples = load()
    for sample in samples[:WARMUP_SAMPLES]:
        detect(sample["text"])
    tallies: dict[str, _Tally] = defaultdict(_Tally)
    ms_per_kb: list[float] = []
    total_seconds, total_bytes = 0.0, 0
    for sample in samples:
        elapsed = float("inf")
        for _ in range(TIMING_RUNS):
            started = time.perf_counter()
            findings = detect(sample["text"])
            elapsed = min(elapsed, time.perf_counter() - started)
        size = len(sample["text"].encode())
        total_seconds, total_bytes = total_seconds + elapsed, total_bytes + size
        ms_per_kb.append(elapsed * 1000 / (size / 1024))
        _score(sample, findings, tallies)

    negatives = sum(1 for s in samples if not any(g["entity"] in ENTITY_TYPES for g in s["spans"]))
    distractors = sum(len(s["distractors"]) for s in samples)
    print(
        f"PII eval: {len(samples)} samples, {total_bytes / 1024:.0f} KB; "
        f"{negatives / len(samples):.0%} of samples hold only hard negatives "
        f"({distractors} hard-negative values in all)\n"
    )
    header = f"{'entity':<18} {'gold':>5} {'pred':>5}   {'P':>6} {'R':>6} {'F2':>6}"
    print(header + f"   {'P~':>6} {'R~':>6} {'F2~':>6}")
    print(f"{'':<30}   {'exact span':^20}   {'overlap':^20}")
    results: dict[str, tuple[float, float]] = {}
    total = _Tally()
    for entity in sorted(ENTITY_TYPES):
        t = tallies[entity]
        for name in ("gold", "predicted", "exact", "overlap_predicted", "overlap_gold"):
            setattr(total, name, getattr(total, name) + getattr(t, name))
    for entity, t in [*sorted((e, tallies[e]) for e in ENTITY_TYPES), ("overall", total)]:
        precision, recall = _ratio(t.exact, t.predicted), _ratio(t.exact, t.gold)
        loose_p, loose_r = _ratio(t.overlap_predicted, t.predicted), _ratio(t.overlap_gold, t.gold)
        results[entity] = (precision, recall)
        print(
            f"{entity:<18} {t.gold:>5} {t.predicted:>5}   {precision:>6.3f} {recall:>6.3f} "
            f"{_f_beta(precision, recall):>6.3f}   {loose_p:>6.3f} {loose_r:>6.3f} "
            f"{_f_beta(loose_p, loose_r):>6.3f}"
        )
    skipped = Counter(
        s["entity"] for x in samples for s in x["spans"] if s["entity"] not in ENTITY_TYPES
    )
    if skipped:
        listed = ", ".join(f"{entity} {count}" for entity, count in sorted(skipped.items()))
        print(f"scored in the NER report below: {listed}")

    p50, p99 = _percentile(ms_per_kb, 0.5), _percentile(ms_per_kb, 0.99)
    overall = total_seconds * 1000 / (total_bytes / 1024)
    print(
        f"\nlatency ms/KB over samples (best of {TIMING_RUNS}): "
        f"p50 {p50:.3f}  p99 {p99:.3f}  overall {overall:.3f}"
    )

    print("\nrecall below 1 by variant (exact span; missed/gold):")
    for entity in sorted(ENTITY_TYPES):
        t = tallies[entity]
        worst = [
            f"{variant} {missed}/{t.gold_variants[variant]}"
            for variant, missed in sorted(t.missed_variants.items(), key=lambda kv: -kv[1])
        ]
        if worst:
            print(f"  {entity}: " + ", ".join(worst))
    print("\nfalse positives by what they landed on:")
    for entity in sorted(ENTITY_TYPES):
        sources = tallies[entity].false_positive_sources
        if sources:
            print(f"  {entity}: " + ", ".join(f"{s} {n}" for s, n in sources.most_common()))

    print("\ntargets (exact span):")
    for entities, min_precision, min_recall in TARGETS:
        for entity in entities:
            precision, recall = results[entity]
            met = precision >= min_precision and recall >= min_recall
            print(
                f"  {'MET ' if met else 'MISS'} {entity}: P {precision:.3f} >= {min_precision}, "
                f"R {recall:.3f} >= {min_recall}"
            )
    met = p50 <= VALIDATOR_P50_MS_PER_KB
    print(
        f"  {'MET ' if met else 'MISS'} validators p50 {p50:.3f} ms/KB <= {VALIDATOR_P50_MS_PER_KB}"
    )

    if examples:
        _print_examples(tallies, ENTITY_TYPES, examples)
    if "--no-ner" not in argv:
        _ner_report(samples, examples)
    return 0


def _print_examples(tallies: dict[str, _Tally], entities: frozenset[str], examples: int) -> None:
    for entity in sorted(entities):
        t = tallies[entity]
        for title, lines in (("missed", t.misses), ("false positive", t.false_positives)):
            for line in lines[:examples]:
                print(f"{entity} {title}: {line}")


def _ner_scored(sample: Sample) -> frozenset[str]:
    """Return the NER types a sample labels: all three in the NER section, else no places."""
    if sample["id"].startswith(NER_ID_PREFIX):
        return NER_ENTITIES
    return NER_ENTITIES - {"LOCATION"}


def _print_ner_table(title: str, tallies: dict[str, _Tally]) -> dict[str, tuple[float, float]]:
    print(f"\n{title}")
    header = f"{'entity':<18} {'gold':>5} {'pred':>5}   {'P':>6} {'R':>6} {'F2':>6}"
    print(header + f"   {'P~':>6} {'R~':>6}")
    results: dict[str, tuple[float, float]] = {}
    for entity in NER_TYPES:
        t = tallies[entity]
        precision, recall = _ratio(t.exact, t.predicted), _ratio(t.exact, t.gold)
        loose_p, loose_r = _ratio(t.overlap_predicted, t.predicted), _ratio(t.overlap_gold, t.gold)
        results[entity] = (precision, recall)
        print(
            f"{entity:<18} {t.gold:>5} {t.predicted:>5}   {precision:>6.3f} {recall:>6.3f} "
            f"{_f_beta(precision, recall):>6.3f}   {loose_p:>6.3f} {loose_r:>6.3f}"
        )
    return results


def _model_alone(model: NameModel, text: str) -> list[Finding]:
    """Return the model's own spans on the raw text, labels mapped, nothing else done."""
    with model.nlp.memory_zone():
        return [
            Finding(LABELS[ent.label_], ent.start_char, ent.end_char, "model")
            for ent in model.nlp(text).ents
            if ent.label_ in LABELS
        ]


def _joined(samples: list[Sample], kilobytes: float, count: int = 20) -> list[str]:
    """Return `count` texts of about `kilobytes` each, consecutive samples joined by blank lines."""
    texts: list[str] = []
    parts: list[str] = []
    for sample in samples[:: max(1, len(samples) // 2000)]:
        parts.append(sample["text"])
        if sum(len(part) for part in parts) >= kilobytes * 1024:
            texts.append("\n\n".join(parts))
            parts = []
            if len(texts) == count:
                break
    return texts


def _ner_report(samples: list[Sample], examples: int) -> None:
    """Score validators + NER together, as the redact stage runs them, and time them."""
    started = time.perf_counter()
    try:
        model = shared_model()
    except NerUnavailable as error:
        print(f"\nNER: not measured ({error})")
        return
    print(f"\n== NER ({model.package}, loaded in {time.perf_counter() - started:.1f} s)")
    for sample in samples[:WARMUP_SAMPLES]:
        detect_names(sample["text"], NER_ENTITIES)
    everywhere: dict[str, _Tally] = defaultdict(_Tally)
    section: dict[str, _Tally] = defaultdict(_Tally)
    alone: dict[str, _Tally] = defaultdict(_Tally)
    ms_per_kb: list[float] = []
    total_seconds, total_bytes = 0.0, 0
    for sample in samples:
        text, scored = sample["text"], _ner_scored(sample)
        elapsed = float("inf")
        for _ in range(NER_TIMING_RUNS):
            started = time.perf_counter()
            findings = resolve_overlaps([*detect(text), *detect_names(text, NER_ENTITIES)])
            elapsed = min(elapsed, time.perf_counter() - started)
        size = len(text.encode())
        total_seconds, total_bytes = total_seconds + elapsed, total_bytes + size
        ms_per_kb.append(elapsed * 1000 / (size / 1024))
        _score(sample, findings, everywhere, scored)
        _score(sample, _model_alone(model, text), alone, scored)
        if scored == NER_ENTITIES:
            _score(sample, findings, section, scored)

    in_section = sum(1 for sample in samples if sample["id"].startswith(NER_ID_PREFIX))
    print(
        f"{len(samples)} samples; places are labelled only in the {in_section} samples of the "
        "NER section, so LOCATION is scored there alone"
    )
    results = _print_ner_table("validators + NER, all samples (exact span; ~ overlap)", everywhere)
    _print_ner_table(f"the NER section alone ({in_section} samples)", section)
    _print_ner_table("the model alone: raw text, labels mapped, no post-processing", alone)
    # Scored in totals only: reading these samples' errors would make them
    # one more tuning set (tests/pii_eval/ner_heldout.py says why).
    heldout: dict[str, _Tally] = defaultdict(_Tally)
    held = heldout_samples()
    for sample in held:
        text = sample["text"]
        findings = resolve_overlaps([*detect(text), *detect_names(text, NER_ENTITIES)])
        _score(sample, findings, heldout, NER_ENTITIES)
    _print_ner_table(f"held-out NER templates, never tuned on ({len(held)} samples)", heldout)
    p50, p99 = _percentile(ms_per_kb, 0.5), _percentile(ms_per_kb, 0.99)
    overall = total_seconds * 1000 / (total_bytes / 1024)
    print(
        f"\nlatency validators + NER, ms/KB over samples (best of {NER_TIMING_RUNS}): "
        f"p50 {p50:.2f}  p99 {p99:.2f}  overall {overall:.2f}"
    )
    print("  by text size, texts of consecutive samples joined (best of 2, p50):")
    for kilobytes in NER_SIZES_KB:
        texts = _joined(samples, kilobytes)
        rates: list[float] = []
        for text in texts:
            elapsed = float("inf")
            for _ in range(NER_TIMING_RUNS):
                started = time.perf_counter()
                resolve_overlaps([*detect(text), *detect_names(text, NER_ENTITIES)])
                elapsed = min(elapsed, time.perf_counter() - started)
            rates.append(elapsed * 1000 / (len(text.encode()) / 1024))
        print(f"    {kilobytes:>4} KB: {_percentile(rates, 0.5):.2f} ms/KB over {len(texts)} texts")
    print("\nrecall below 1 by variant (exact span; missed/gold):")
    for entity in NER_TYPES:
        t = everywhere[entity]
        worst = [
            f"{variant or '-'} {missed}/{t.gold_variants[variant]}"
            for variant, missed in sorted(t.missed_variants.items(), key=lambda kv: -kv[1])
        ]
        if worst:
            print(f"  {entity}: " + ", ".join(worst[:12]))
    print("\nfalse positives by what they landed on:")
    for entity in NER_TYPES:
        sources = everywhere[entity].false_positive_sources
        if sources:
            print(f"  {entity}: " + ", ".join(f"{s} {n}" for s, n in sources.most_common(8)))
    precision, recall = results["PERSON"]
    met = precision >= PERSON_PRECISION and recall >= PERSON_RECALL
    print("\ntargets (exact span, all samples):")
    print(
        f"  {'MET ' if met else 'MISS'} PERSON: P {precision:.3f} >= {PERSON_PRECISION}, "
        f"R {recall:.3f} >= {PERSON_RECALL}"
    )
    met = p50 <= NER_P50_MS_PER_KB
    print(
        f"  {'MET ' if met else 'MISS'} validators + NER p50 {p50:.2f} ms/KB <= {NER_P50_MS_PER_KB}"
    )
    if examples:
        _print_examples(everywhere, NER_ENTITIES, examples)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
