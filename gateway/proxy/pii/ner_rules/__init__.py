"""Post-processing of spaCy's entity spans for `gateway.proxy.pii.ner`.

    chunks(text, limit) -> (offset, piece) pairs; refine(text, spans) -> spans

No spaCy here: the model's (label, start, end) spans come in, PII entity
spans go out. Every rule is a convention of English writing, not a list of
names, and each one's reason is written beside it:
- context cues that introduce a person: a salutation, a self-introduction,
  the line after a sign-off, an email header's display name, a name field;
  two or more capitalised words there are a PERSON, whatever the model said
  (`people`);
- a company's legal form ("Inc", "LLC", "GmbH", "and Sons") makes the span
  before it an ORGANIZATION (`organizations`);
- honorifics before a PERSON and generational or professional suffixes
  after it belong to the name ("Dr. Ann Lee MD") (`people`);
- a span never crosses a line (`text`), never starts with a salutation, and
  needs a capital letter; the field names of other PII ("IBAN") are dropped
  (`tidying`);
- a list of surnames is a firm's name when something says so, and so is
  "University of X" (`organizations`); a place or company field says what
  its value is (`places`);
- people are not named after "the" or on a label line (`tidying`), nor after
  "in" or "moved to" (`places`);
- surname particles and a first name the model left out join the name
  (`people`, `overlaps`).
`pipeline` runs them in order; `words` holds the vocabulary several share.

All work is linear in the text, and every module keeps it so: regexes are
matched at positions, never searched from each cue; a scan over the whole
text (`finditer`) resumes where its last match ended; a look at the words
before a span reads a bounded window (a few words, 40 characters each at
most); and overlapping spans are resolved group by group.
"""

from __future__ import annotations

from gateway.proxy.pii.ner_rules.pipeline import LABELS, refine
from gateway.proxy.pii.ner_rules.text import MODEL_VIEW, chunks

__all__ = ["LABELS", "MODEL_VIEW", "chunks", "refine"]
