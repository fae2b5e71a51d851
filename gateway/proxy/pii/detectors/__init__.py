"""Validator-based PII detectors, one module per family, and their registry.

Every detector reads folded text (see `normalize`) and yields findings in
its coordinates; `gateway.proxy.pii.detect` maps them back and resolves
overlaps. Each registry entry names the `prefilter` trigger without which
its detector cannot match.
"""

from __future__ import annotations

from gateway.proxy.pii.detectors import prefilter
from gateway.proxy.pii.detectors._common import Detector, LateDetector
from gateway.proxy.pii.detectors.banking import detect_ibans
from gateway.proxy.pii.detectors.cards import detect_cards
from gateway.proxy.pii.detectors.contact import detect_emails
from gateway.proxy.pii.detectors.crypto import detect_crypto_addresses
from gateway.proxy.pii.detectors.eu_ids import detect_codici_fiscali, detect_eu_numeric_ids
from gateway.proxy.pii.detectors.network import detect_ip_addresses
from gateway.proxy.pii.detectors.phone import detect_phone_numbers
from gateway.proxy.pii.detectors.us_ids import (
    detect_us_driver_licenses,
    detect_us_passports,
    detect_us_taxpayer_ids,
)

# (entity types it produces, prefilter trigger, detector): a detector runs
# when any of its types is requested and its trigger fired, and findings of
# types not requested are dropped.
DETECTORS: tuple[tuple[frozenset[str], str, Detector], ...] = (
    (frozenset({"CREDIT_CARD"}), prefilter.CARD, detect_cards),
    (frozenset({"US_SSN", "US_ITIN"}), prefilter.TAXPAYER_ID, detect_us_taxpayer_ids),
    (frozenset({"IBAN"}), prefilter.IBAN, detect_ibans),
    (frozenset({"EMAIL"}), prefilter.EMAIL, detect_emails),
    (frozenset({"IP_ADDRESS"}), prefilter.IP_ADDRESS, detect_ip_addresses),
    (frozenset({"CRYPTO"}), prefilter.CRYPTO, detect_crypto_addresses),
    (frozenset({"EU_NATIONAL_ID"}), prefilter.EU_NUMBER, detect_eu_numeric_ids),
    (frozenset({"EU_NATIONAL_ID"}), prefilter.EU_CODICE_FISCALE, detect_codici_fiscali),
    (frozenset({"US_PASSPORT"}), prefilter.PASSPORT, detect_us_passports),
    (frozenset({"US_DRIVER_LICENSE"}), prefilter.DRIVER_LICENSE, detect_us_driver_licenses),
)

# Run after DETECTORS, on the text with the more specific findings blanked.
LATE_DETECTORS: tuple[tuple[frozenset[str], str, LateDetector], ...] = (
    (frozenset({"PHONE"}), prefilter.PHONE, detect_phone_numbers),
)

ENTITY_TYPES: frozenset[str] = frozenset().union(
    *(types for types, _, _ in DETECTORS + LATE_DETECTORS)
)

__all__ = ["DETECTORS", "ENTITY_TYPES", "LATE_DETECTORS", "Detector", "LateDetector"]
