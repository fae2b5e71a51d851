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


def test_an_ampersand_makes_a_list_of_surnames_one_firm() -> None:
    text = "The audit was done by Ernst & Young last year."
    spans = [_span(text, "PERSON", "Ernst"), _span(text, "PERSON", "Young")]
    assert _refined(text, spans) == [("ORGANIZATION", "Ernst & Young")]


def test_a_list_the_model_calls_partly_an_organisation_is_one_firm() -> None:
    text = "I am writing on behalf of Foster, Kent and Freeman about your visit."
    spans = [
        _span(text, "PERSON", "Foster"),
        _span(text, "ORG", "Kent"),
        _span(text, "PERSON", "Freeman"),
    ]
    assert _refined(text, spans) == [("ORGANIZATION", "Foster, Kent and Freeman")]


def test_a_list_after_the_is_one_firm_and_a_full_name_before_it_stays() -> None:
    text = "Meet Tyler Davis at the Ward, Kirk and Williams office."
    spans = [
        _span(text, "PERSON", "Tyler Davis"),
        _span(text, "PERSON", "Ward"),
        _span(text, "PERSON", "Kirk"),
        _span(text, "PERSON", "Williams"),
    ]
    assert _refined(text, spans) == [
        ("PERSON", "Tyler Davis"),
        ("ORGANIZATION", "Ward, Kirk and Williams"),
    ]


def test_a_list_of_first_names_without_a_sign_of_a_firm_stays_people() -> None:
    text = "Thanks Anna, Tom and Bob for the help."
    spans = [_span(text, "PERSON", name) for name in ("Anna", "Tom", "Bob")]
    assert _refined(text, spans) == [("PERSON", "Anna"), ("PERSON", "Tom"), ("PERSON", "Bob")]


def test_a_legal_form_the_model_missed_makes_a_company_of_the_words_before_it() -> None:
    text = "Shipping to: Charles Smith, Arrieta y Alba S.Coop., Madrid"
    spans = [
        _span(text, "PERSON", "Charles Smith"),
        _span(text, "PERSON", "Arrieta"),
        _span(text, "GPE", "Madrid"),
    ]
    assert _refined(text, spans) == [
        ("PERSON", "Charles Smith"),
        ("ORGANIZATION", "Arrieta y Alba S.Coop."),
        ("LOCATION", "Madrid"),
    ]


def test_a_company_keeps_its_full_stop_and_the_words_before_but_not_a_sentence_start() -> None:
    text = "Will you check whether Inversiones Españolas S.Com. paid? Yesterday Acme Inc did."
    spans = [_span(text, "PERSON", "Españolas S.Com"), _span(text, "ORG", "Acme Inc")]
    assert _refined(text, spans) == [
        ("ORGANIZATION", "Inversiones Españolas S.Com."),
        ("ORGANIZATION", "Acme Inc"),
    ]


def test_partners_labs_and_bank_end_a_company_name() -> None:
    text = "Summit Partners, Lambert Labs and Mercer Bank signed."
    spans = [_span(text, "PERSON", name) for name in ("Summit", "Lambert", "Mercer")]
    assert _refined(text, spans) == [
        ("ORGANIZATION", "Summit Partners"),
        ("ORGANIZATION", "Lambert Labs"),
        ("ORGANIZATION", "Mercer Bank"),
    ]


def test_university_of_names_an_institution() -> None:
    text = "She studied at the University of California in Berkeley."
    spans = [_span(text, "GPE", "California"), _span(text, "GPE", "Berkeley")]
    assert _refined(text, spans) == [
        ("ORGANIZATION", "University of California"),
        ("LOCATION", "Berkeley"),
    ]


def test_place_company_and_thing_fields_say_what_their_value_is() -> None:
    text = '{"city": "Łuków", "employer": "Benitez, Cook and Thornton", "plan": "Jira"}'
    spans = [_span(text, "PERSON", name) for name in ("Łuków", "Benitez", "Cook", "Jira")]
    assert _refined(text, spans) == [
        ("LOCATION", "Łuków"),
        ("ORGANIZATION", "Benitez, Cook and Thornton"),
    ]


def test_a_name_after_the_is_no_person() -> None:
    text = "Please check the Kafka dashboard before Friday."
    assert _refined(text, [_span(text, "PERSON", "Kafka")]) == []


def test_a_name_after_in_or_a_verb_of_travel_is_a_place_save_after_loop_in_or_a_title() -> None:
    text = "Sophie just moved to Gabon. Please loop in Tom Lee from legal."
    spans = [
        _span(text, "PERSON", "Sophie"),
        _span(text, "PERSON", "Gabon"),
        _span(text, "PERSON", "Tom Lee"),
    ]
    assert _refined(text, spans) == [
        ("PERSON", "Sophie"),
        ("LOCATION", "Gabon"),
        ("PERSON", "Tom Lee"),
    ]
    text = "We have every confidence in Dr. Ann Lee."
    assert _refined(text, [_span(text, "PERSON", "Dr. Ann Lee")]) == [("PERSON", "Dr. Ann Lee")]


def test_surname_particles_join_the_parts_of_a_name() -> None:
    text = "Timo van der Velde and Jaylinn van 't Wel will run it.\nOwner: Nadia van Landen\n"
    spans = [_span(text, "PERSON", name) for name in ("Timo", "Velde", "Jaylinn", "Wel")]
    assert _refined(text, spans) == [
        ("PERSON", "Timo van der Velde"),
        ("PERSON", "Jaylinn van 't Wel"),
        ("PERSON", "Nadia van Landen"),
    ]


def test_a_particle_and_surname_after_a_name_belong_to_it() -> None:
    text = "Please talk to Melina da Rocha before Friday."
    assert _refined(text, [_span(text, "PERSON", "Melina")]) == [("PERSON", "Melina da Rocha")]


def test_a_first_name_the_model_left_out_or_called_a_place_joins_the_surname() -> None:
    text = "Send the receipt to Théophile Leroux. Sync: Calixta Valero presented. Ask Tom."
    spans = [
        _span(text, "GPE", "Théophile"),
        _span(text, "PERSON", "Leroux"),
        _span(text, "PERSON", "Valero"),
        _span(text, "PERSON", "Tom"),
    ]
    assert _refined(text, spans) == [
        ("PERSON", "Théophile Leroux"),
        ("PERSON", "Calixta Valero"),
        ("PERSON", "Tom"),
    ]


def test_a_lower_case_word_ends_a_name() -> None:
    text = "Thanks for the update. Damian Kuk at Leon confirmed it."
    assert _refined(text, [_span(text, "PERSON", "Damian Kuk at Leon")]) == [
        ("PERSON", "Damian Kuk")
    ]


def test_a_double_barrelled_word_alone_is_a_firm_but_not_after_a_first_name() -> None:
    text = "Alvarez-Jarvis never got it, so Ann Lee-Smith will follow up with Martinez-Martin."
    spans = [
        _span(text, "PERSON", "Alvarez-Jarvis"),
        _span(text, "PERSON", "Ann Lee"),
        _span(text, "PERSON", "Martinez"),
    ]
    assert _refined(text, spans) == [
        ("ORGANIZATION", "Alvarez-Jarvis"),
        ("PERSON", "Ann Lee-Smith"),
        ("ORGANIZATION", "Martinez-Martin"),
    ]


def test_a_role_noun_or_a_verb_taking_a_person_cues_a_full_name() -> None:
    text = "Ticket 4: customer Sara Davies asks us to meet Zehaan Konda. Customer Success Sync"
    spans = [_span(text, "ORG", "Sara Davies"), _span(text, "ORG", "Customer Success Sync")]
    assert _refined(text, spans) == [
        ("PERSON", "Sara Davies"),
        ("PERSON", "Zehaan Konda"),
        ("ORGANIZATION", "Customer Success Sync"),
    ]


def test_an_attendee_list_names_each_person() -> None:
    text = "Attendees: Tanvi Keer, Barkha Upadhyay, Hredhaan Lata\n"
    assert _refined(text, []) == [
        ("PERSON", "Tanvi Keer"),
        ("PERSON", "Barkha Upadhyay"),
        ("PERSON", "Hredhaan Lata"),
    ]


def test_a_letter_may_open_with_the_readers_name_alone() -> None:
    assert _refined("Adolfo -\n\nCould you resend the report?", []) == [("PERSON", "Adolfo")]
    assert _refined("Thanks,\n\nsee the report below.", []) == []


def test_and_joins_a_person_to_a_person_whatever_the_model_said() -> None:
    text = "Mr. Mahal and Loreto Muro will attend."
    spans = [_span(text, "PERSON", "Mahal"), _span(text, "ORG", "Loreto Muro")]
    assert _refined(text, spans) == [("PERSON", "Mr. Mahal"), ("PERSON", "Loreto Muro")]


def test_a_label_line_starts_with_no_name() -> None:
    text = "Owner: Ann Lee\nAction items:\n- book the venue"
    spans = [_span(text, "PERSON", "Ann Lee"), _span(text, "PERSON", "Action")]
    assert _refined(text, spans) == [("PERSON", "Ann Lee")]
