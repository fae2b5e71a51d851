"""Each validator entity type: what it finds, and the look-alikes it leaves alone."""

from __future__ import annotations

import pytest

from gateway.proxy.pii import detect


def found(text: str, entity: str | None = None) -> list[tuple[str, str]]:
    wanted = None if entity is None else frozenset({entity})
    return [(finding.entity, text[finding.start : finding.end]) for finding in detect(text, wanted)]


def only(text: str, entity: str) -> list[str]:
    return [value for kind, value in found(text) if kind == entity]


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",  # Visa
        "4111-1111-1111-1111",
        "4222222222222",  # Visa, 13 digits
        "5555 5555 5555 4444",  # Mastercard
        "2223 0031 2200 3222",  # Mastercard 2-series
        "3782 822463 10005",  # Amex 4-6-5
        "371449635398431",
        "6011 1111 1111 1117",  # Discover
        "3530 1113 3330 0000",  # JCB
        "3056 930902 5904",  # Diners 4-6-4
        "6200 0000 0000 0005",  # UnionPay
        "6759 6498 2643 8453",  # Maestro
    ],
)
def test_it_finds_cards_of_every_brand(card: str) -> None:
    assert found(f"my card is {card}, thanks") == [("CREDIT_CARD", card)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112",  # Luhn fails
        "order 1234567890123456 shipped",  # Luhn fails, no brand
        "id 9111111111111111111",  # no known range
        "account 0000 0000 0000 0000",
        "number 41111111111111111111111",  # 23 digits: longer than any card
        "ref x4111111111111111",  # glued to a word
        "mixed 4111-1111 1111-1111",  # mixed separators
        "digits 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",  # one digit per group
    ],
)
def test_it_refuses_card_lookalikes(text: str) -> None:
    assert only(text, "CREDIT_CARD") == []


def test_it_stops_a_card_before_a_trailing_cvv_or_expiry() -> None:
    assert only("4111 1111 1111 1111 123", "CREDIT_CARD") == ["4111 1111 1111 1111"]
    assert only("4111-1111-1111-1111 12/25", "CREDIT_CARD") == ["4111-1111-1111-1111"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SSN 123-45-6789", [("US_SSN", "123-45-6789")]),
        ("call me, 219-09-9999 is mine", [("US_SSN", "219-09-9999")]),
        ("my ssn: 123456789", [("US_SSN", "123456789")]),
        ("social security number 123 45 6789", [("US_SSN", "123 45 6789")]),
        ("ITIN 912-70-1234", [("US_ITIN", "912-70-1234")]),
        ("itin 999881234", [("US_ITIN", "999881234")]),
    ],
)
def test_it_finds_ssns_and_itins(text: str, expected: list[tuple[str, str]]) -> None:
    assert [pair for pair in found(text) if pair[0] in ("US_SSN", "US_ITIN")] == expected


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "912-93-1234",  # 9xx with a group no ITIN uses
        "order 123456789 shipped",  # bare, no context
        "123 45 6789 apples",  # spaced, no context
        "call 555-123-4567",  # a phone layout
        "on 2023-10-15",  # a date
        "part 123-45-6789-01",  # longer code
    ],
)
def test_it_refuses_ssn_lookalikes(text: str) -> None:
    assert [kind for kind, _ in found(text) if kind in ("US_SSN", "US_ITIN")] == []


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "FR14 2004 1010 0505 0001 3M02 606",
        "NL91ABNA0417164300",
        "gb82 west 1234 5698 7654 32",
    ],
)
def test_it_finds_ibans(iban: str) -> None:
    assert found(f"pay to {iban} today", "IBAN") == [("IBAN", iban)]


def test_it_refuses_ibans_with_a_bad_check_and_keeps_good_ones_before_a_word() -> None:
    assert only("pay DE88 3704 0044 0532 0130 00 now", "IBAN") == []
    assert only("pay DE89 3704 0044 0532 0130 00 ABCD", "IBAN") == ["DE89 3704 0044 0532 0130 00"]


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("write to john.doe+tag@example.co.uk.", "john.doe+tag@example.co.uk"),
        ("(a_b@sub.example.org)", "a_b@sub.example.org"),
        ("<O'Brien@Example.IE>, thanks", "O'Brien@Example.IE"),
    ],
)
def test_it_finds_emails_without_trailing_punctuation(text: str, email: str) -> None:
    assert found(text, "EMAIL") == [("EMAIL", email)]


@pytest.mark.parametrize("text", ["user@localhost", "@handle", "a@b", "john@.com", "x@y.c0m"])
def test_it_refuses_email_lookalikes(text: str) -> None:
    assert only(text, "EMAIL") == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("call (415) 555-2671 today", "(415) 555-2671"),
        ("call 415.555.2671 today", "415.555.2671"),
        ("office +44 20 7946 0958 or", "+44 20 7946 0958"),
        ("Paris +33 1 42 68 53 00.", "+33 1 42 68 53 00"),
        ("desk (415) 555-2671 ext. 1234", "(415) 555-2671 ext. 1234"),
        ("Berlin +49 30 901820", "+49 30 901820"),
    ],
)
def test_it_finds_phone_numbers_with_extensions(text: str, phone: str) -> None:
    assert found(text, "PHONE") == [("PHONE", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "call 555-0100 now",  # too short
        "order 123-456-0000 placed",  # US area codes never start with 1
        "on 2023-10-15 at 12:45:03",
        "price $1,234,567.89",
        "trace 123e4567-e89b-12d3-a456-426614174000",
        "version 10.2.3.4567",
    ],
)
def test_it_refuses_invalid_phone_numbers(text: str) -> None:
    assert only(text, "PHONE") == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Berlin office: 030 901820, ask for Jana.", "030 901820"),  # DE
        ("Ring me on 020 7946 0958 after lunch.", "020 7946 0958"),  # GB
        ("Mobile 07700 900123 please", "07700 900123"),  # GB mobile
        ("Bureau : 01 42 68 53 00.", "01 42 68 53 00"),  # FR
        ("Sydney desk (02) 9374 4000 ext. 12", "(02) 9374 4000 ext. 12"),  # AU
        ("Tokyo mobile 090-1234-5678", "090-1234-5678"),  # JP
        ("Roma 06 6982 1234", "06 6982 1234"),  # IT keeps its 0
        ("Mumbai 022 2345 6789", "022 2345 6789"),  # IN
        ("phone: 02079460958", "02079460958"),  # one block, after a phone word
    ],
)
def test_it_finds_national_numbers_with_a_trunk_zero_in_their_country_grouping(
    text: str, phone: str
) -> None:
    assert found(text, "PHONE") == [("PHONE", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "call 045-234-5678 today",  # the NANP layout: a US number, and invalid
        "ref 02079460958 attached",  # one block of digits, no phone word
        "licence F554-0967-1715",  # the tail of a longer code
        "see version 0.20.28.10",  # a lone 0 is no trunk prefix
        "due 21.03.2024 or 03/21/2024",  # dates
        "call 912 34 56 78",  # no trunk 0 and no country: read as US, invalid
        "order 88412093 for our shop in Germany",  # German numbers show their 0
    ],
)
def test_it_does_not_guess_a_country_for_numbers_without_evidence(text: str) -> None:
    assert only(text, "PHONE") == []


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Our office in Spain: 912 34 56 78", "912 34 56 78"),  # a country name
        ("Madrid +34 912 34 56 78, warehouse 934 56 78 90", "934 56 78 90"),  # +CC elsewhere
        ("Teléfono: 55 1234 5678", "55 1234 5678"),  # the language's word for phone
        ("write to ana@empresa.es or call 912 34 56 78", "912 34 56 78"),  # a ccTLD
        ("Contato no Brasil: (11) 2860-7754", "(11) 2860-7754"),  # Brazil shows no 0
    ],
)
def test_it_reads_a_national_number_in_the_country_the_text_names(text: str, phone: str) -> None:
    assert only(text, "PHONE")[-1:] == [phone]


def test_a_nanp_layout_is_not_read_in_a_named_country_that_prints_numbers_otherwise() -> None:
    text = "Berlin office +49 30 901820; ref 038-538-2442"
    assert only(text, "PHONE") == ["+49 30 901820"]


@pytest.mark.parametrize(
    "address",
    [
        "192.168.1.1",
        "8.8.8.8",
        "2001:db8::8a2e:370:7334",
        "::1",
        "fe80::1ff:fe23:4567:890a",
        "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        "::ffff:192.0.2.128",
    ],
)
def test_it_finds_ip_addresses(address: str) -> None:
    assert found(f"host {address}, port 80", "IP_ADDRESS") == [("IP_ADDRESS", address)]


@pytest.mark.parametrize(
    "text",
    [
        "999.1.1.1",
        "v1.2.3.4",
        "version 1.2.3.4",
        "1.2.3.4.5",
        "01.02.03.04",
        "at 10:30:45",
        "mac 00:1A:2B:3C:4D:5E",
        "std::vector",
    ],
)
def test_it_refuses_ip_lookalikes(text: str) -> None:
    assert only(text, "IP_ADDRESS") == []


@pytest.mark.parametrize(
    "address",
    [
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",  # P2PKH
        "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",  # P2SH
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # bech32
        "bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297",  # bech32m
        "0x52908400098527886E0F7030069857D2E4169EE7",
    ],
)
def test_it_finds_crypto_addresses(address: str) -> None:
    assert found(f"send to {address} please", "CRYPTO") == [("CRYPTO", address)]


@pytest.mark.parametrize(
    "text",
    [
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # checksum off by one
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdr",
        "tx 0x" + "ab" * 32,  # a 32-byte hash, not an address
    ],
)
def test_it_refuses_crypto_lookalikes(text: str) -> None:
    assert only(text, "CRYPTO") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("DNI 12345678Z", "12345678Z"),
        ("NIE X2482300W", "X2482300W"),
        ("hetu 131052-308T", "131052-308T"),
        ("CF RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("NIR 185057800608491", "185057800608491"),
        ("NIR 1 85 05 78 006 084 91", "1 85 05 78 006 084 91"),
        ("personnummer 880320-0016", "880320-0016"),
        ("CPR 211062-5629", "211062-5629"),
        ("nn 85.07.30-033.28", "85.07.30-033.28"),
        ("mein BSN is 111222333", "111222333"),
        ("PESEL: 44051401359", "44051401359"),
        ("Steuer-ID 36574261809", "36574261809"),
    ],
)
def test_it_finds_eu_national_ids(text: str, value: str) -> None:
    assert found(text, "EU_NATIONAL_ID") == [("EU_NATIONAL_ID", value)]


@pytest.mark.parametrize(
    "text",
    [
        "DNI 12345678A",  # wrong check letter
        "order 111222333",  # a valid BSN checksum, but no context
        "invoice 44051401359",  # a valid PESEL, but no context
        "hetu 131052-308U",
    ],
)
def test_it_refuses_eu_id_lookalikes(text: str) -> None:
    assert only(text, "EU_NATIONAL_ID") == []


def test_it_finds_passports_and_licences_only_after_a_context_word() -> None:
    assert only("passport no. 123456789", "US_PASSPORT") == ["123456789"]
    assert only("Passport: C03005988", "US_PASSPORT") == ["C03005988"]
    assert only("order 123456789 shipped", "US_PASSPORT") == []
    assert only("driver's license: D1234567", "US_DRIVER_LICENSE") == ["D1234567"]
    assert only("DL# S530-4607-8212", "US_DRIVER_LICENSE") == ["S530-4607-8212"]
    assert only("SKU D1234567 in stock", "US_DRIVER_LICENSE") == []
    far = "driver's license" + " and a great deal of unrelated words" * 2 + " D1234567"
    assert only(far, "US_DRIVER_LICENSE") == []


def test_it_runs_only_the_requested_entity_types() -> None:
    text = "jane@example.com 4111 1111 1111 1111"
    assert found(text, "EMAIL") == [("EMAIL", "jane@example.com")]
    assert detect(text, frozenset()) == []
    assert detect(text, frozenset({"PERSON"})) == []


@pytest.mark.parametrize(
    "text",
    [
        "Order #A-10023-77 shipped, tracking 1Z999AA10123456784.",
        "Upgrade to 3.11.4 from 2.7.18 before 2024-01-31.",
        "Total: $12,499.00 (EUR 11.250,00) due 31/12/2025.",
        "ids 550e8400-e29b-41d4-a716-446655440000 and 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 fixed it",
        "It is 10:45 now and 22:30:15 later; room 4021, floor 12.",
    ],
)
def test_it_finds_nothing_in_everyday_numbers(text: str) -> None:
    assert found(text) == []
