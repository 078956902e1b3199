"""Snippets: a window of a segment around its first match, with the matches' offsets."""

from __future__ import annotations

import unicodedata

SNIPPET_CHARS = 36
"""Characters of text shown in a snippet (plus an ellipsis at a cut end)."""
LEAD_CHARS = 10
"""Characters kept before the first match."""
ELLIPSIS = "…"


def display_form(text_norm: str, text: str) -> str:
    """The normalised text as the speaker's transcript wrote it, but in simplified script.

    ``text_norm`` folds width and ASCII case (，→, and ABC→abc); for display we keep the
    original character wherever folding was the only change. Only where the two texts line
    up character for character (NFKC can change the length).
    """
    if text_norm == text:
        return text
    if len(text_norm) != len(text):
        return text_norm
    return "".join(
        original if folded == original or _folded(original) == folded else folded
        for folded, original in zip(text_norm, text, strict=True)
    )


def _folded(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower() if ch.isascii() or ord(ch) >= 0xFF00 else ch


def match_spans(text_norm: str, terms: list[str]) -> list[tuple[int, int]]:
    """Every occurrence of every term as (start, end) offsets, overlaps merged, in order."""
    spans = []
    for term in terms:
        at = text_norm.find(term)
        while at >= 0:
            spans.append((at, at + len(term)))
            at = text_norm.find(term, at + 1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def make_snippet(
    text_norm: str,
    text: str,
    terms: list[str],
    *,
    width: int = SNIPPET_CHARS,
    shown: str | None = None,
) -> tuple[str, list[tuple[int, int]]]:
    """(snippet, highlight offsets within the snippet) for a matching segment.

    ``shown``: ``display_form(text_norm, text)`` when the caller has it already.
    """
    if shown is None:
        shown = display_form(text_norm, text)
    spans = match_spans(text_norm, terms)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - LEAD_CHARS, len(shown) - width))
    end = min(len(shown), start + width)
    prefix = ELLIPSIS if start > 0 else ""
    suffix = ELLIPSIS if end < len(shown) else ""
    shift = len(prefix) - start
    inside = [
        (max(a, start) + shift, min(b, end) + shift) for a, b in spans if a < end and b > start
    ]
    return prefix + shown[start:end] + suffix, inside


def highlight(snippet: str, spans: list[tuple[int, int]], *, before: str, after: str) -> str:
    """``snippet`` with each span wrapped in ``before``/``after`` (ANSI codes or 【】)."""
    out, at = [], 0
    for start, end in spans:
        out.extend((snippet[at:start], before, snippet[start:end], after))
        at = end
    out.append(snippet[at:])
    return "".join(out)
