"""Envelope encryption of secrets at rest (provider keys): AES-256-GCM under SELIXES_MASTER_KEYS.

SELIXES_MASTER_KEYS is `kid:base64(32 bytes)[,kid:base64…]`; the first key
encrypts, every listed key decrypts, so a new master key is rolled out by
putting it first, re-wrapping (`manage.py rewrap_secrets`), then dropping the
old one. A sealed value is `v1.<kid>.<nonce b64>.<ciphertext+tag b64>` and is
bound to its context (the AAD: e.g. the org and key id), so a ciphertext
copied into another org's row does not decrypt. Shared by web (which seals)
and the proxy (which opens, in memory only); imports nothing from Django.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = "v1"
NONCE_BYTES = 12


class CryptoError(Exception):
    """A sealed value that cannot be opened: unknown key id, tampering, wrong context."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class MasterKeys:
    keys: dict[str, bytes]
    current: str

    @classmethod
    def parse(cls, value: str) -> MasterKeys:
        """Parse `kid:base64key[,kid:base64key…]`; refuse anything but 32-byte keys."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            kid, sep, encoded = item.partition(":")
            if not sep or not kid or "." in kid:
                raise ValueError("SELIXES_MASTER_KEYS entries look like kid:base64key")
            try:
                key = base64.b64decode(encoded, validate=True)
            except binascii.Error as e:
                raise ValueError(f"master key {kid!r} is not valid base64") from e
            if len(key) != 32:
                raise ValueError(f"master key {kid!r} must be 32 bytes (AES-256)")
            keys[kid] = key
            order.append(kid)
        if not order:
            raise ValueError("SELIXES_MASTER_KEYS holds no key")
        return cls(keys=keys, current=order[0])

    def seal(self, plaintext: bytes, context: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext, context)
        return ".".join([VERSION, self.current, _b64(nonce), _b64(ciphertext)])

    def open(self, sealed: str, context: bytes) -> bytes:
        try:
            version, kid, nonce, ciphertext = sealed.split(".")
        except ValueError as e:
            raise CryptoError("malformed sealed value") from e
        if version != VERSION:
            raise CryptoError(f"unknown sealed-value version {version!r}")
        key = self.keys.get(kid)
        if key is None:
            raise CryptoError(f"master key {kid!r} is not configured")
        try:
            return AESGCM(key).decrypt(_unb64(nonce), _unb64(ciphertext), context)
        except (InvalidTag, ValueError, binascii.Error) as e:
            raise CryptoError("sealed value does not open under this key and context") from e

    def key_id_of(self, sealed: str) -> str:
        return sealed.split(".")[1] if sealed.count(".") == 3 else ""


def provider_key_context(org_id: str, provider_key_id: str) -> bytes:
    """The AAD binding a provider key's ciphertext to its org and row."""
    return f"selixes/provider-key/{org_id}/{provider_key_id}".encode()


def pii_secret_context(org_id: str) -> bytes:
    """The AAD binding an org's pseudonymization key to that org."""
    return f"selixes/pii-secret/{org_id}".encode()


def data_key_context(org_id: str, day: str) -> bytes:
    """The AAD binding an org's trace data key of one UTC day ("YYYY-MM-DD") to both."""
    return f"selixes/data-key/{org_id}/{day}".encode()
