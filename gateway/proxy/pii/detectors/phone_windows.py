"""The stretches of text the phone detector reads, never-a-phone shapes blanked.

A number needs six digits or more, so the detector reads only the text
around clusters of that many digits (`cluster_windows`), and in each
stretch first blanks the shapes that are never phone numbers but would
cost phonenumbers a full parse each: dates, times, prices, UUIDs, hex
digests, prefixed ids (`scrubbed_window`). Split from phone.py to keep it
short: this is the cost side of the detector, phone.py the reading side.
"""

from __future__ import annotations

import re

from gateway.proxy.pii.detectors._common import digit_span

# Digits close together: one cluster per number (a number's groups are at
# most three characters apart, and it has at least six digits). Each
# repetition takes one digit, so the scan is linear; a cluster of fewer
# than six digits fails inside the regex engine, with no Python step, and
# so does every later start inside it (it holds fewer digits still), so the
# matches are exactly the clusters of six digits or more. The quantifiers
# are possessive: the non-digits before the next digit can be taken one
# way only, so giving some back could never match and only costs time.
DIGIT_CLUSTER = re.compile(r"[0-9](?:[^0-9\n]{0,3}+[0-9]){5,}+", re.ASCII)
# Shapes that are never phone numbers but cost phonenumbers a full parse
# each: UUIDs and hex digests, ISO dates, clock times, amounts with decimals,
# and ids whose digits hang off a letter prefix by a dash (ORD-2026-075135),
# and dates written day-first or month-first with a four-digit year.
#
# Every alternative starts with a character class and checks what comes
# before it after that first character ("[12](?<![0-9][12])" for
# "(?<![0-9])[12]"; "[0-9](?:(?<=[0-2])[0-9])?" for "[0-2]?[0-9]"): the
# engine tries each alternative at each position of a cluster, and a class
# rejects a position in one step where a lookbehind takes several. The
# matches are the same (tests/gateway/proxy/pii/test_fast_path_detectors.py compares the two).
NOT_A_PHONE = re.compile(
    r"[A-Za-z](?<![A-Za-z0-9][A-Za-z])[A-Za-z]+-[0-9]+(?:-[0-9]+)*(?![0-9])"
    r"|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
    r"|[0-9A-Fa-f](?<![A-Za-z0-9][0-9A-Fa-f])[0-9A-Fa-f]{23,}(?![A-Za-z0-9])"
    r"|[12](?<![0-9][12])[0-9]{3}-[01][0-9]-[0-3][0-9]"
    r"(?:[T ][0-2][0-9]:[0-5][0-9](?::[0-5][0-9])?)?"
    r"|[0-9](?<![0-9:][0-9])(?:(?<=[0-2])[0-9])?:[0-5][0-9]"
    r"(?::[0-5][0-9](?:\.[0-9]{1,9})?)?(?![0-9:])"
    r"|[$\u20ac\u00a3][0-9][0-9,]{0,15}(?:\.[0-9]{1,2})?"
    r"|[0-9](?<![0-9.][0-9])(?:(?<=[0-3])[0-9])?([./])[0-3]?[0-9]\1(?:19|20)[0-9]{2}"
    r"(?![0-9]|[./][0-9])",
    re.ASCII,
)
# Text read around a cluster: enough for a phone word before it (the
# context window) and an extension after it.
_WINDOW_BEFORE = 64
_WINDOW_AFTER = 32
_MAX_WINDOW = 4096
# How far before and after a cluster a never-a-phone shape may reach
# (a UUID's length; the lookaheads read a character or two).
SHAPE_REACH = 40
_SHAPE_AFTER = 4
_SHAPE_MARK = re.compile("[-:./$\u20ac\u00a3]")
_HEX_DIGEST = 24
SHAPE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-$\u20ac\u00a3"


def cluster_windows(text: str) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Return the stretches of `text` around clusters of at least six digits, merged.

    Each stretch comes with the spans of its clusters.
    """
    windows: list[tuple[int, int, list[tuple[int, int]]]] = []
    # Clusters lie between the first digit and the last; the scan starts and
    # stops there rather than stepping through the prose around them.
    span = digit_span(text)
    if span is None:
        return windows
    for cluster in DIGIT_CLUSTER.finditer(text, *span):
        start, end = cluster.span()
        low, high = max(0, start - _WINDOW_BEFORE), min(len(text), end + _WINDOW_AFTER)
        if windows and low <= windows[-1][1]:
            window_low, _, clusters = windows[-1]
            if high - window_low <= _MAX_WINDOW:
                # The cluster list is shared, so merging is not a copy.
                clusters.append((start, end))
                windows[-1] = (window_low, high, clusters)
                continue
            # A stretch of digits longer than that is cut between two
            # clusters, each side keeping half the gap: phonenumbers' matcher
            # slows down more than linearly on one enormous text.
            previous_end = clusters[-1][1]
            cut = previous_end + min(_WINDOW_AFTER, (start - previous_end) // 2)
            windows[-1] = (window_low, cut, clusters)
            low = cut
        windows.append((low, high, [(start, end)]))
    return windows


def scrubbed_window(text: str, low: int, high: int, clusters: list[tuple[int, int]]) -> str:
    """Return text[low:high] with the shapes that are never phone numbers blanked.

    Only what could touch a cluster is looked at: a shape that ends in one
    starts at most a UUID's length before it.
    """
    blanks: list[tuple[int, int]] = []
    for start, end in clusters:
        # A shape reaches back only over the characters it is made of (hex
        # and letters, dashes, a currency sign): usually none.
        before = text[max(low, start - SHAPE_REACH) : start]
        lookfrom = max(start - (len(before) - len(before.rstrip(SHAPE_CHARS))), low)
        if blanks:
            lookfrom = max(lookfrom, blanks[-1][1])
        stop = min(high, end + _SHAPE_AFTER)
        # Every shape holds a dash, colon, dot, slash or currency sign but a
        # bare hex digest, which is 24 characters at least: a plain group of
        # digits ("88412093", "+44 20 7946 0958") needs no regex.
        if stop - lookfrom < _HEX_DIGEST and _SHAPE_MARK.search(text, lookfrom, stop) is None:
            continue
        for match in NOT_A_PHONE.finditer(text, lookfrom, stop):
            blanks.append(match.span())
    piece = text[low:high]
    if not blanks:
        return piece
    parts: list[str] = []
    position = low
    for start, end in blanks:
        if end <= position:
            continue
        start = max(start, position)
        parts.append(text[position:start])
        parts.append(" " * (end - start))
        position = end
    parts.append(text[position:high])
    return "".join(parts)
