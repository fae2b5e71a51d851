"""Validator-based PII detectors, one module per family, and their registry.

Every detector reads folded text (see `normalize`) and yields findings in
its coordinates; `gateway.proxy.pii.detect` maps them back and resolves
overlaps.
"""

from __future__ import annotations

from gateway.proxy.pii.detectors._common import Detector
from gateway.proxy.pii.detectors.banking import detect_ibans
from gateway.proxy.pii.detectors.cards import detect_cards
from gateway.proxy.pii.detectors.contact import detect_emails, detect_phone_numbers
from gateway.proxy.pii.detectors.crypto import detect_crypto_addresses
from gateway.proxy.pii.detectors.eu_ids import detect_eu_national_ids
from gateway.proxy.pii.detectors.network import detect_ip_addresses
from gateway.proxy.pii.detectors.us_ids import (
    detect_us_driver_licenses,
    detect_us_passports,
    detect_us_taxpayer_ids,
)

# Which detector produces which entity types; a detector runs when any of
# its types is requested, and findings of types not requested are dropped.
DETECTORS: tuple[tuple[frozenset[str], Detector], ...] = (
    (frozenset({"CREDIT_CARD"}), detect_cards),
    (frozenset({"US_SSN", "US_ITIN"}), detect_us_taxpayer_ids),
    (frozenset({"IBAN"}), detect_ibans),
    (frozenset({"EMAIL"}), detect_emails),
    (frozenset({"IP_ADDRESS"}), detect_ip_addresses),
    (frozenset({"CRYPTO"}), detect_crypto_addresses),
    (frozenset({"EU_NATIONAL_ID"}), detect_eu_national_ids),
    (frozenset({"US_PASSPORT"}), detect_us_passports),
    (frozenset({"US_DRIVER_LICENSE"}), detect_us_driver_licenses),
)

# Run after DETECTORS, on the text with the more specific findings blanked.
LATE_DETECTORS: tuple[tuple[frozenset[str], Detector], ...] = (
    (frozenset({"PHONE"}), detect_phone_numbers),
)

ENTITY_TYPES: frozenset[str] = frozenset().union(
    *(types for types, _ in DETECTORS + LATE_DETECTORS)
)

__all__ = ["DETECTORS", "ENTITY_TYPES", "LATE_DETECTORS", "Detector"]
