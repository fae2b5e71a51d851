"""Fixes found by the labeled eval: key=value text, print layouts, context windows."""

from __future__ import annotations

import pytest

from gateway.proxy.pii import detect


def found(text: str) -> list[tuple[str, str]]:
    return [(finding.entity, text[finding.start : finding.end]) for finding in detect(text)]


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("user=shelbytorres@yahoo.com x", "shelbytorres@yahoo.com"),
        (
            "request done email=dcase+collection@gmail.com latency_ms=5",
            "dcase+collection@gmail.com",
        ),
        ("contact_email=raymond.lane@jackson-larsen.com\n", "raymond.lane@jackson-larsen.com"),
        ("write to a=b@example.com", "b@example.com"),
        ("write to o'brien@example.com", "o'brien@example.com"),
    ],
)
def test_an_email_after_a_key_starts_after_the_key(text: str, email: str) -> None:
    assert found(text) == [("EMAIL", email)]


@pytest.mark.parametrize("card", ["4621-293-634-100", "4096 076 633 449", "4222 222 222 222"])
def test_it_finds_13_digit_visas_printed_4_3_3_3(card: str) -> None:
    assert found(f"card ({card}) is wrong") == [("CREDIT_CARD", card)]


@pytest.mark.parametrize(
    "text",
    [
        "card 4621-293-634-101",  # Luhn fails
        "card 4621 293-634 100",  # mixed separators
        "card 4621-29-3634-100",  # not a printed layout
    ],
)
def test_it_refuses_4_3_3_3_lookalikes(text: str) -> None:
    assert [kind for kind, _ in found(text)] == []


def test_a_plus_before_the_digits_makes_a_phone_number_not_a_card() -> None:
    assert found("+4222222222222 and +4915123988458") == [("PHONE", "+4915123988458")]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("ip:fe80::4993:5010 x", "fe80::4993:5010"),
        ("client_ip:2600:1f18::b62a:919e x", "2600:1f18::b62a:919e"),
        ("ip:::ffff:185.8.208.1 x", "::ffff:185.8.208.1"),
        ("remote_addr:2001:db8::d43f:4ba x", "2001:db8::d43f:4ba"),
        ("ip:5ce1:8315:a3df:e4e2:dd31:9d41:64c1:31b8 x", "5ce1:8315:a3df:e4e2:dd31:9d41:64c1:31b8"),
    ],
)
def test_it_finds_ipv6_right_after_a_key(text: str, address: str) -> None:
    assert found(text) == [("IP_ADDRESS", address)]


@pytest.mark.parametrize(
    "text",
    [
        "1:2:3:4:5:6:7:8:9",  # nine groups: not its last eight
        "cafe:1:2:3:4:5:6:7:8",  # a hex word is no key
        "Version: 19.2.23.21",
        'APP_VERSION="0.16.12.8"',
        '{"version": "12.10.2.10"}',
        "app_version:26.8.12.6 latency_ms=900",
        "My version is 5.5.20.5.",
        "I think the version (8.7.4.21) is wrong",
    ],
)
def test_it_refuses_colon_runs_and_version_numbers_as_ips(text: str) -> None:
    assert [kind for kind, _ in found(text) if kind == "IP_ADDRESS"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('license_number="37970152" x', ("US_DRIVER_LICENSE", "37970152")),
        ("dl_number=N198218522505\n", ("US_DRIVER_LICENSE", "N198218522505")),
        ('"drivers_license": "U831-0477-6656"', ("US_DRIVER_LICENSE", "U831-0477-6656")),
        ("passport_number = Q48427318\n", ("US_PASSPORT", "Q48427318")),
        ("tax_id=980620299\n", ("US_ITIN", "980620299")),
        ("tax_id=989 60 0084 x", ("US_ITIN", "989 60 0084")),
        ("steuer_id=12786095386\n", ("EU_NATIONAL_ID", "12786095386")),
        ("national_id:372922053 x", ("EU_NATIONAL_ID", "372922053")),
        ('national_id="74101817948" x', ("EU_NATIONAL_ID", "74101817948")),
    ],
)
def test_keys_with_underscores_are_context_words(text: str, expected: tuple[str, str]) -> None:
    assert found(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('ssn="419-41-6509" passport=353603406 x', ("US_PASSPORT", "353603406")),
        ("ssn=815-26-5731\ndrivers_license = 796732026\n", ("US_DRIVER_LICENSE", "796732026")),
        # A valid BSN under its own key, not an SSN under the previous one.
        (
            '{"ssn": "216-65-6504", "national_id": "364269078"}',
            ("EU_NATIONAL_ID", "364269078"),
        ),
        ("DL=Q341-5640-2006 order_id:#80821747 x", None),
        ('DL="L604624338929" order_id:PO9839887348 x', None),
    ],
)
def test_a_context_word_does_not_reach_into_the_next_item(
    text: str, expected: tuple[str, str] | None
) -> None:
    findings = found(text)
    # The first item's own value is found; the next item's is not read in
    # the first key's context.
    assert findings[1:] == ([] if expected is None else [expected])


@pytest.mark.parametrize("value", ["744273768", "781 13 3598"])
def test_a_context_word_starting_before_the_window_but_ending_in_it_counts(value: str) -> None:
    text = f"The social security number we have on file is {value}, is that right?"
    assert text.index("social security") + len("social security") > text.index(value) - 40
    assert text.index("social") < text.index(value) - 40
    assert found(text) == [("US_SSN", value)]


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("I think the mobile (+1 201-541-8575) is wrong", "+1 201-541-8575"),
        ("I think the tel. (+12016562816) is wrong", "+12016562816"),
        ("I think the mobile (201.303.8262) is wrong", "201.303.8262"),
        ("call (201) 555-0100 now", "(201) 555-0100"),
    ],
)
def test_a_phone_in_parentheses_leaves_the_opening_bracket_out(text: str, phone: str) -> None:
    assert found(text) == [("PHONE", phone)]


@pytest.mark.parametrize(
    "text",
    [
        "I think the order (ORD-2026-075135) is wrong",
        'order_id="ORD-2023-169877"',
        "INV-2019-624889.",
    ],
)
def test_order_ids_with_a_letter_prefix_are_not_phones(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize("licence", ["WDL46TQITE2J", "WDLAB12CD34E"])
def test_it_finds_washington_wdl_licences_after_a_context_word(licence: str) -> None:
    assert found(f"the driver license number ({licence}) is wrong") == [
        ("US_DRIVER_LICENSE", licence)
    ]
    assert found(f"the reference ({licence}) is wrong") == []
