"""PII test data and policies: detector fragments, compiled policies, policies set by API.

The proxy-level builders (`set_policy`, `say`, `seen_by_provider`) speak to a
real proxy and the mock provider through tests/proxy/conftest.py's Gateway.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson

from gateway.proxy.pii.policy import CompiledPolicy, compile_policy
from tests.gateway.proxy.conftest import Gateway

# Values the proxy tests put in prompts and answers.
EMAIL = "ann.lee@example.org"
PHONE = "+1 415-555-0132"
CARD = "4111 1111 1111 1111"
SSN = "123-45-6789"
# The entities found by validators (no NER), masked.
VALIDATORS = {
    "EMAIL": "mask",
    "PHONE": "mask",
    "CREDIT_CARD": "mask",
    "US_SSN": "mask",
    "IBAN": "mask",
    "IP_ADDRESS": "mask",
}


def set_policy(gateway: Gateway, project_id: str | None = None, **policy: Any) -> None:
    """PUT the org's (or a project's) PII policy through the management API, enabled."""
    body = {"enabled": True, "custom_patterns": [], "restore_in_response": False, **policy}
    path = f"/api/v1/projects/{project_id}/pii-policy/" if project_id else "/api/v1/pii-policy/"
    response = gateway.api.put(path, body, format="json")
    assert response.status_code in (200, 201), response.content


def say(text: str) -> str:
    """A prompt the mock answers with `text` verbatim."""
    return "say:" + base64.b64encode(text.encode()).decode()


def seen_by_provider(gateway: Gateway) -> str:
    """The last body the mock provider received, as JSON text."""
    return orjson.dumps(gateway.recorded()["last"]["body"]).decode()


# Every entity the stream and answer tests scan for.
SCANNED_ENTITIES = {
    "EMAIL": "mask",
    "PHONE": "mask",
    "CREDIT_CARD": "mask",
    "US_SSN": "mask",
    "IBAN": "mask",
    "IP_ADDRESS": "mask",
    "CRYPTO": "mask",
    "EU_NATIONAL_ID": "mask",
    "US_PASSPORT": "mask",
}


def compiled_policy(restore: bool = False) -> CompiledPolicy:
    """An org policy masking SCANNED_ENTITIES and an EMP-123456 custom pattern."""
    entry = {
        "enabled": True,
        "entities": SCANNED_ENTITIES,
        "custom_patterns": [{"name": "EMPLOYEE_ID", "regex": r"EMP-\d{6}", "action": "mask"}],
        "restore_in_response": restore,
    }
    result = compile_policy(entry, "org", None, None)  # type: ignore[arg-type]
    assert result is not None
    return result


def full_width(text: str) -> str:
    return text.translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


# Values of every family, their look-alikes, and the pieces they are made of,
# so generated texts hold near-misses on both sides of every trigger.
FRAGMENTS = [
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "4222222222222",
    "4621-293-634-100",
    "123-45-6789",
    "ssn 123456789",
    "ITIN 912-70-1234",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "jane.doe+tag@example.co.uk",
    "user=a@b.com",
    "(415) 555-2671",
    "+44 20 7946 0958",
    "030 901820",
    "(02) 9374 4000 ext. 12",
    "090-1234-5678",
    "Spain 912 34 56 78",
    "Teléfono: 55 1234 5678",
    "ana@empresa.es 912 34 56 78",
    "192.168.1.1",
    "1.2.3.4.5",
    "fe80::1ff:fe23:4567:890a",
    "ip:::ffff:185.8.208.1",
    "::1",
    "10:45:03",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "DNI 12345678Z",
    "NIE X2482300W",
    "hetu 131052-308T",
    "CF RSSMRA85T10A562S",
    "RSSMRAURTMLARSNL",  # a codice fiscale with every digit spelled as a letter
    "NIR 1 85 05 2A 006 084 35",
    "nn 85.07.30-033.28",
    "BSN 111222333",
    "PESEL: 44051401359",
    "Steuer-ID 36574261809",
    "passport no. 123456789",
    "passport_number=C03005988",
    "driver's license: D1234567",
    "dl_number=WDLABCDEFGHI",  # a Washington licence without a digit
    "DL# S530-4607-8212",
    "dr\u0130ver license 1234567",  # a dotted capital I the regex folds to i
    "order #88412093",
    "v1.2.3.4",
    "$1,249.99",
    "2024-03-18",
    "21.03.2024",
    "0.20.28.10",
    full_width("4111111111111111"),
    full_width("jane@example.com"),
    "\u200b".join("4111111111111111"),
    "123\u2011\u200b45\u20116789",
    "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic digits
    "\u0968\u0966\u0968\u096a",  # Devanagari digits
    "\u6771\u4eac\u90fd \u96fb\u8a71",  # CJK
    "\u041c\u043e\u0441\u043a\u0432\u0430",  # Cyrillic
    "caf\u00e9 Z\u00fcrich",
    "\ufb01",
    "\u00ad",
    "\ufeff",
    "\ud800",
]
