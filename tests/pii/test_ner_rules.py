"""The rules applied to the model's spans: each test gives spans as the model would."""

from __future__ import annotations

from gateway.proxy.pii.ner_rules import refine


def _refined(text: str, spans: list[tuple[str, int, int]]) -> list[tuple[str, str]]:
    return [(entity, text[start:end]) for entity, start, end in refine(text, spans)]


def _span(text: str, label: str, piece: str) -> tuple[str, int, int]:
    start = text.index(piece)
    return label, start, start + len(piece)


def test_a_salutation_names_a_person_the_model_missed() -> None:
    text = "Dear Kristy Nguyen,\n\ncan you check the invoice?"
    assert _refined(text, []) == [("PERSON", "Kristy Nguyen")]


def test_a_cue_overrides_the_model_label_and_drops_the_salutation() -> None:
    text = "Hi, this is Brett Pena. The request is late."
    assert _refined(text, [_span(text, "ORG", "Brett Pena")]) == [("PERSON", "Brett Pena")]


def test_no_span_crosses_a_line() -> None:
    text = "Kind regards,\nJoseph Foster\nFowler Consulting\n"
    spans = [_span(text, "PERSON", "Joseph Foster\nFowler Consulting")]
    assert _refined(text, spans) == [
        ("PERSON", "Joseph Foster"),
        ("PERSON", "Fowler Consulting"),
    ]


def test_a_legal_form_makes_an_organisation() -> None:
    text = "The contract with Walker LLC is signed."
    assert _refined(text, [_span(text, "PERSON", "Walker")]) == [("ORGANIZATION", "Walker LLC")]


def test_a_firm_line_is_one_organisation() -> None:
    text = "Best regards,\nAnn Lee\nSmith, Jones and Brown\n"
    spans = [_span(text, "PERSON", "Smith"), _span(text, "PERSON", "Jones")]
    assert _refined(text, spans) == [
        ("PERSON", "Ann Lee"),
        ("ORGANIZATION", "Smith, Jones and Brown"),
    ]


def test_titles_and_suffixes_belong_to_the_name() -> None:
    text = "Please call Dr. Ann Lee MD today."
    assert _refined(text, [_span(text, "PERSON", "Ann Lee")]) == [("PERSON", "Dr. Ann Lee MD")]


def test_an_imperative_at_a_sentence_start_is_no_name() -> None:
    text = "Kafka is up. Mark the ticket as done."
    assert _refined(text, [_span(text, "PERSON", "Mark")]) == []


def test_field_names_codes_and_lower_case_words_are_dropped() -> None:
    text = "IBAN=GB82WEST12345698765432 order ORD-2023 is with support"
    spans = [
        _span(text, "ORG", "IBAN"),
        _span(text, "GPE", "ORD-2023"),
        _span(text, "ORG", "support"),
    ]
    assert _refined(text, spans) == []


def test_labels_that_are_no_pii_type_are_ignored() -> None:
    text = "Americans love Kubernetes."
    spans = [_span(text, "NORP", "Americans"), _span(text, "PRODUCT", "Kubernetes")]
    assert _refined(text, spans) == []
