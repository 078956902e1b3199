"""Offline conversion of an openai-whisper checkpoint into a CTranslate2 model for faster-whisper.

ctranslate2 ships no converter for openai's ``.pt`` files (only for Hugging Face folders,
which a station does not have and cannot download), so the weights are mapped here onto
ctranslate2's ``WhisperSpec`` directly, the way its Transformers loader maps them:
query/key/value fused into one projection (whisper's key has no bias: zeros), cross-attention
key/value fused, the output projection tied to the token embedding. The vocabulary and
``tokenizer.json`` come from the openai-whisper package's own tiktoken files
(``transcripts.tokenizer_json``), so nothing is fetched. The model folder is written beside
its final name and renamed into place, so a failed conversion leaves nothing half-written.
"""

from __future__ import annotations

import base64
import gzip
import itertools
import json
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.errors import InvalidInput
from transcripts.models_offline import MARKER_FILE, MODEL_FILES, folder_bytes

QUANTIZATIONS = ("int8", "float16", "float32")
"""Weight types a converted model can be stored in (int8: a quarter of float32's size)."""

_DIMS = (
    "n_mels", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
    "n_vocab", "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer",
)  # fmt: skip


class ConversionFailed(InvalidInput):
    """A checkpoint that cannot be turned into a CTranslate2 model (the message says why)."""


@dataclass(frozen=True)
class Converted:
    """What ``convert_checkpoint`` wrote."""

    path: Path
    source: Path
    quantization: str
    bytes: int
    multilingual: bool
    seconds: float


def default_output(checkpoint: Path, quantization: str, folder: Path) -> Path:
    """``<folder>/<stem>-ct2-<quantization>``: where ``hotline models list`` finds it by name."""
    return folder / f"{checkpoint.stem}-ct2-{quantization}"


def _load(checkpoint: Path) -> tuple[dict[str, int], dict[str, Any]]:
    import torch

    where = f"cannot convert {checkpoint}"
    if not checkpoint.is_file():
        raise ConversionFailed(f"{where}: no such file")
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of a broken file before failing on it.
            warnings.simplefilter("ignore")
            data = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling or zip errors: the file is not a torch checkpoint
        reason = next((s.strip() for s in str(exc).splitlines() if s.strip()), type(exc).__name__)
        raise ConversionFailed(f"{where}: not a torch checkpoint ({reason[:120]})") from exc
    if not isinstance(data, dict) or "dims" not in data or "model_state_dict" not in data:
        raise ConversionFailed(
            f"{where}: not an openai-whisper checkpoint (no 'dims' and 'model_state_dict'); "
            "Hugging Face folders convert with ctranslate2's own converter"
        )
    dims = data["dims"]
    missing = [d for d in _DIMS if d not in dims]
    if missing:
        raise ConversionFailed(f"{where}: its dims lack {', '.join(missing)}")
    return {d: int(dims[d]) for d in _DIMS}, data["model_state_dict"]


class _Weights:
    """The checkpoint's tensors as float32 numpy arrays, with the name of any that is missing."""

    def __init__(self, state: dict[str, Any], checkpoint: Path) -> None:
        self.state = state
        self.checkpoint = checkpoint

    def __call__(self, name: str) -> Any:
        tensor = self.state.get(name)
        if tensor is None:
            raise ConversionFailed(
                f"cannot convert {self.checkpoint}: tensor {name!r} is missing (a damaged or "
                "differently built checkpoint)"
            )
        return tensor.detach().float().numpy()


def _linear(spec: Any, weights: _Weights, prefix: str, *, bias: bool = True) -> None:
    spec.weight = weights(f"{prefix}.weight")
    if bias:
        spec.bias = weights(f"{prefix}.bias")


def _norm(spec: Any, weights: _Weights, prefix: str) -> None:
    spec.gamma = weights(f"{prefix}.weight")
    spec.beta = weights(f"{prefix}.bias")


def _fused(spec: Any, weights: _Weights, prefix: str, parts: tuple[str, ...]) -> None:
    """One linear layer from several of whisper's (``key`` has no bias: zeros in its place)."""
    import numpy as np

    matrices = [weights(f"{prefix}.{p}.weight") for p in parts]
    spec.weight = np.concatenate(matrices)
    biases = [
        weights(f"{prefix}.{p}.bias")
        if f"{prefix}.{p}.bias" in weights.state
        else np.zeros(m.shape[0], dtype=np.float32)
        for p, m in zip(parts, matrices, strict=True)
    ]
    spec.bias = np.concatenate(biases)


def _attention(spec: Any, weights: _Weights, prefix: str, *, cross: bool) -> None:
    if cross:
        _fused(spec.linear[0], weights, prefix, ("query",))
        _fused(spec.linear[1], weights, prefix, ("key", "value"))
    else:
        _fused(spec.linear[0], weights, prefix, ("query", "key", "value"))
    _linear(spec.linear[-1], weights, f"{prefix}.out")


def _mlp(spec: Any, weights: _Weights, prefix: str) -> None:
    _linear(spec.linear_0, weights, f"{prefix}.mlp.0")
    _linear(spec.linear_1, weights, f"{prefix}.mlp.2")
    _norm(spec.layer_norm, weights, f"{prefix}.mlp_ln")


def _sinusoids(length: int, channels: int) -> Any:
    """whisper's fixed encoder positions, for a checkpoint saved without its buffer."""
    import numpy as np

    increment = np.log(10000) / (channels // 2 - 1)
    inv = np.exp(-increment * np.arange(channels // 2))
    scaled = np.arange(length)[:, None] * inv[None, :]
    return np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1).astype(np.float32)


def build_spec(dims: dict[str, int], weights: _Weights) -> Any:
    """The ``WhisperSpec`` with every weight of the checkpoint in place."""
    from ctranslate2.specs import whisper_spec

    spec = whisper_spec.WhisperSpec(
        dims["n_audio_layer"], dims["n_audio_head"], dims["n_text_layer"], dims["n_text_head"]
    )
    encoder, decoder = spec.encoder, spec.decoder
    _linear(encoder.conv1, weights, "encoder.conv1")
    _linear(encoder.conv2, weights, "encoder.conv2")
    if "encoder.positional_embedding" in weights.state:
        encoder.position_encodings.encodings = weights("encoder.positional_embedding")
    else:
        encoder.position_encodings.encodings = _sinusoids(
            dims["n_audio_ctx"], dims["n_audio_state"]
        )
    for i, layer in enumerate(encoder.layer):
        prefix = f"encoder.blocks.{i}"
        _attention(layer.self_attention, weights, f"{prefix}.attn", cross=False)
        _norm(layer.self_attention.layer_norm, weights, f"{prefix}.attn_ln")
        _mlp(layer.ffn, weights, prefix)
    _norm(encoder.layer_norm, weights, "encoder.ln_post")

    decoder.embeddings.weight = weights("decoder.token_embedding.weight")
    decoder.position_encodings.encodings = weights("decoder.positional_embedding")
    for i, layer in enumerate(decoder.layer):
        prefix = f"decoder.blocks.{i}"
        _attention(layer.self_attention, weights, f"{prefix}.attn", cross=False)
        _norm(layer.self_attention.layer_norm, weights, f"{prefix}.attn_ln")
        _attention(layer.attention, weights, f"{prefix}.cross_attn", cross=True)
        _norm(layer.attention.layer_norm, weights, f"{prefix}.cross_attn_ln")
        _mlp(layer.ffn, weights, prefix)
    _norm(decoder.layer_norm, weights, "decoder.ln")
    # whisper's logits are the final states times the token embedding (tied weights).
    decoder.projection.weight = weights("decoder.token_embedding.weight")
    return spec


def alignment_heads(dims: dict[str, int], name: str | None) -> list[tuple[int, int]]:
    """Cross-attention heads that word timings follow: whisper's own list for an official
    model, else the last half of the decoder layers (whisper's and ctranslate2's default)."""
    import numpy as np
    import whisper

    dump = whisper._ALIGNMENT_HEADS.get(name or "")
    layers, heads = dims["n_text_layer"], dims["n_text_head"]
    if dump is not None:
        mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool)
        if mask.size == layers * heads:
            return [(int(a), int(b)) for a, b in np.argwhere(mask.reshape(layers, heads))]
    return list(itertools.product(range(layers // 2, layers), range(heads)))


def _official_name(checkpoint: Path) -> str | None:
    return next((n for n, f in MODEL_FILES.items() if f == checkpoint.name), None)


def convert_checkpoint(
    checkpoint: Path, *, out: Path, quantization: str = "int8", force: bool = False
) -> Converted:
    """Write the CTranslate2 form of an openai-whisper ``checkpoint`` into folder ``out``.

    Raises:
        ConversionFailed: an unknown quantization, an existing ``out`` (without ``force``),
            or a file that is not a complete openai-whisper checkpoint; always one line.
    """
    from transcripts.tokenizer_json import whisper_tokenizer_files

    if quantization not in QUANTIZATIONS:
        raise ConversionFailed(
            f"quantization {quantization!r}: use one of {', '.join(QUANTIZATIONS)}"
        )
    if out.exists() and not force:
        raise ConversionFailed(f"{out} already exists; --force replaces it")
    started = time.perf_counter()
    dims, state = _load(checkpoint)
    spec = build_spec(dims, _Weights(state, checkpoint))
    multilingual = dims["n_vocab"] >= 51865
    files = whisper_tokenizer_files(
        multilingual=multilingual, num_languages=dims["n_vocab"] - 51765 - int(multilingual)
    )
    if len(files.vocabulary) != dims["n_vocab"]:
        raise ConversionFailed(
            f"cannot convert {checkpoint}: {dims['n_vocab']} tokens in the model, but "
            f"openai-whisper's tokenizer has {len(files.vocabulary)}"
        )
    spec.register_vocabulary(files.vocabulary)
    config = spec.config
    config.suppress_ids = files.suppress_ids
    config.suppress_ids_begin = files.suppress_ids_begin
    config.lang_ids = files.lang_ids
    config.alignment_heads = alignment_heads(dims, _official_name(checkpoint))
    try:
        spec.validate()
        spec.optimize(quantization=quantization)
    except ValueError as exc:  # shapes that do not fit the dims
        raise ConversionFailed(f"cannot convert {checkpoint}: {exc}") from exc

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        spec.save(str(staging))
        (staging / "tokenizer.json").write_text(files.tokenizer_json, encoding="utf-8")
        preprocessor = {"feature_size": dims["n_mels"], "sampling_rate": 16000}
        (staging / "preprocessor_config.json").write_text(json.dumps(preprocessor) + "\n")
        marker = {
            "converted_from": str(checkpoint.resolve()),
            "checkpoint_bytes": checkpoint.stat().st_size,
            "quantization": quantization,
            "dims": dims,
        }
        (staging / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Converted(
        path=out,
        source=checkpoint,
        quantization=quantization,
        bytes=folder_bytes(out),
        multilingual=multilingual,
        seconds=time.perf_counter() - started,
    )
