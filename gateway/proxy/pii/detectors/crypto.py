"""Cryptocurrency wallet addresses: Bitcoin (base58check, bech32/bech32m), Ethereum."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from gateway.proxy.pii.spans import Finding

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_VALUES = {char: value for value, char in enumerate(_BASE58_ALPHABET)}
_BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_VALUES = {char: value for value, char in enumerate(_BECH32_ALPHABET)}
_BECH32_CONSTANT = 1
_BECH32M_CONSTANT = 0x2BC830A3

_BASE58_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![A-Za-z0-9])", re.ASCII
)
_BECH32_ADDRESS = re.compile(
    r"(?<![A-Za-z0-9])(?:bc1[ac-hj-np-z02-9]{11,71}|BC1[AC-HJ-NP-Z02-9]{11,71})(?![A-Za-z0-9])",
    re.ASCII,
)
_ETHEREUM_ADDRESS = re.compile(r"(?<![A-Za-z0-9])0x[0-9a-fA-F]{40}(?![A-Za-z0-9])", re.ASCII)


def _base58check_valid(address: str) -> bool:
    number = 0
    for char in address:
        number = number * 58 + _BASE58_VALUES[char]
    leading_zeros = len(address) - len(address.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    raw = b"\x00" * leading_zeros + body
    if len(raw) != 25 or raw[0] not in (0x00, 0x05):
        return False
    payload, checksum = raw[:-4], raw[-4:]
    return hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] == checksum


def _bech32_polymod(values: list[int]) -> int:
    generators = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(generators):
            if (top >> bit) & 1:
                checksum ^= generator
    return checksum


def _bech32_valid(address: str) -> bool:
    address = address.lower()
    human, data = address[:2], address[3:]
    expanded = [ord(char) >> 5 for char in human] + [0] + [ord(char) & 31 for char in human]
    values = expanded + [_BECH32_VALUES[char] for char in data]
    return _bech32_polymod(values) in (_BECH32_CONSTANT, _BECH32M_CONSTANT)


def detect_crypto_addresses(text: str) -> Iterator[Finding]:
    """Yield checksum-valid Bitcoin addresses and Ethereum addresses."""
    for match in _BASE58_ADDRESS.finditer(text):
        if _base58check_valid(match.group()):
            yield Finding("CRYPTO", match.start(), match.end(), "btc_base58check")
    for match in _BECH32_ADDRESS.finditer(text):
        if _bech32_valid(match.group()):
            yield Finding("CRYPTO", match.start(), match.end(), "btc_bech32")
    for match in _ETHEREUM_ADDRESS.finditer(text):
        yield Finding("CRYPTO", match.start(), match.end(), "eth_address")
