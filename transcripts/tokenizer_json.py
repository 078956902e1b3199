"""A converted model's vocabulary and ``tokenizer.json``, from openai-whisper's own tiktoken files.

faster-whisper reads ``tokenizer.json`` from the model folder and would otherwise download
one from the Hugging Face hub. openai-whisper ships its byte-pair ranks
(``whisper/assets/{gpt2,multilingual}.tiktoken``); the ``tokenizers`` equivalent is a BPE
model whose merges are recovered from those ranks (what transformers' ``TikTokenConverter``
does): every token of two or more bytes is the merge of the two known pieces it splits
into, ordered by rank. Lookup of whole pieces first (``ignore_merges``) is tiktoken's rule.
Token ids agree with ``whisper.tokenizer`` (a test checks English and Chinese text).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class TokenizerFiles:
    """What a CTranslate2 whisper model needs from the tokenizer."""

    vocabulary: list[str]
    """Token strings by id, byte-level encoded as GPT-2 writes them."""
    tokenizer_json: str
    suppress_ids: list[int]
    """Symbols whisper never writes (speaker tags, music notes, …): its ``non_speech_tokens``."""
    suppress_ids_begin: list[int]
    """Tokens not allowed first: a lone space and end-of-text."""
    lang_ids: list[int]


@cache
def _byte_chars() -> dict[int, str]:
    """GPT-2's reversible byte → printable character map."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


def _text(token: bytes) -> str:
    chars = _byte_chars()
    return "".join(chars[b] for b in token)


def _merges(ranks: dict[bytes, int]) -> list[tuple[str, str]]:
    merges: list[tuple[int, int, int, bytes, bytes]] = []
    for token, rank in ranks.items():
        for cut in range(1, len(token)):
            left, right = token[:cut], token[cut:]
            if left in ranks and right in ranks:
                merges.append((rank, ranks[left], ranks[right], left, right))
    merges.sort()
    return [(_text(left), _text(right)) for _, _, _, left, right in merges]


def whisper_tokenizer_files(*, multilingual: bool, num_languages: int) -> TokenizerFiles:
    """The vocabulary, ``tokenizer.json`` and token lists of whisper's tokenizer, offline."""
    import whisper.tokenizer
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    reference = whisper.tokenizer.get_tokenizer(
        multilingual, num_languages=num_languages, language="en" if multilingual else None
    )
    encoding = reference.encoding
    ranks: dict[bytes, int] = encoding._mergeable_ranks
    specials: dict[str, int] = encoding._special_tokens
    size = len(ranks) + len(specials)
    vocabulary = [""] * size
    for token, rank in ranks.items():
        vocabulary[rank] = _text(token)
    for token, rank in specials.items():
        vocabulary[rank] = token

    bpe = models.BPE(
        {_text(token): rank for token, rank in ranks.items()}, _merges(ranks), fuse_unk=False
    )
    bpe.ignore_merges = True
    tokenizer = Tokenizer(bpe)
    # GPT-2's split pattern is whisper's (whisper.tokenizer.get_encoding's pat_str).
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    ordered = sorted(specials.items(), key=lambda item: item[1])
    tokenizer.add_special_tokens(
        [AddedToken(t, normalized=False, special=True) for t, _ in ordered]
    )

    languages = [specials[f"<|{code}|>"] for code in reference.all_language_codes]
    return TokenizerFiles(
        vocabulary=vocabulary,
        tokenizer_json=tokenizer.to_str(),
        suppress_ids=sorted(reference.non_speech_tokens),
        suppress_ids_begin=[*reference.encode(" "), reference.eot],
        lang_ids=sorted(languages),
    )
