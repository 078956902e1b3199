"""Converting openai-whisper checkpoints to CTranslate2 offline: weights, tokenizer, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from whisper_fixtures import (
    tiny_ct2_fixture,  # noqa: F401 (the tiny_ct2 fixture)
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
)

from transcripts.convert import ConversionFailed, convert_checkpoint
from transcripts.models_offline import MARKER_FILE, ct2_quantization
from transcripts.tokenizer_json import whisper_tokenizer_files

TEXTS = (
    " 以下是政协热线节目。委员们回答听众的问题：養老、醫保、公交！",
    " Good morning, it's the hotline: 3.5 million pensions… ☃",
    "  两个空格\n和换行",
)


@pytest.mark.parametrize("multilingual", [True, False])
def test_tokenizer_json_gives_whispers_own_token_ids(multilingual: bool) -> None:
    import tokenizers
    import whisper.tokenizer

    files = whisper_tokenizer_files(multilingual=multilingual, num_languages=99)
    ours = tokenizers.Tokenizer.from_str(files.tokenizer_json)
    reference = whisper.tokenizer.get_tokenizer(multilingual, num_languages=99)
    for text in TEXTS:
        ids = ours.encode(text, add_special_tokens=False).ids
        assert ids == reference.encode(text)
        assert ours.decode(ids) == text
    assert len(files.vocabulary) == (51865 if multilingual else 51864)
    for special in ("<|startoftranscript|>", "<|notimestamps|>", "<|nospeech|>", "<|0.00|>"):
        assert ours.token_to_id(special) == reference.encoding.encode_single_token(special)
    assert files.suppress_ids_begin == [220, reference.eot]


def test_the_converted_model_computes_what_openai_whisper_computes(
    tiny_whisper: Path, tmp_path: Path
) -> None:
    import ctranslate2
    import torch
    import whisper

    done = convert_checkpoint(tiny_whisper, out=tmp_path / "fp32", quantization="float32")
    assert done.multilingual and done.quantization == "float32"
    assert {"model.bin", "config.json", "vocabulary.json", "tokenizer.json"} <= {
        p.name for p in done.path.iterdir()
    }
    assert ct2_quantization(done.path) == "float32"
    marker = json.loads((done.path / MARKER_FILE).read_text())
    assert marker["converted_from"] == str(tiny_whisper.resolve())

    reference = whisper.load_model(str(tiny_whisper), device="cpu")
    audio = tone_and_silence([("tone", 3), ("noise", 2)])
    mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio))[None]
    with torch.no_grad():
        expected = reference.encoder(mel).numpy()
    converted = ctranslate2.models.Whisper(str(done.path), device="cpu", compute_type="float32")
    encoded = np.array(converted.encode(ctranslate2.StorageView.from_array(mel.numpy())))
    np.testing.assert_allclose(encoded, expected, atol=1e-4)


def test_int8_is_about_a_quarter_of_float32(
    tiny_whisper: Path, tiny_ct2: Path, tmp_path: Path
) -> None:
    fp32 = convert_checkpoint(tiny_whisper, out=tmp_path / "fp32", quantization="float32")
    weights = (fp32.path / "model.bin").stat().st_size
    assert (tiny_ct2 / "model.bin").stat().st_size < 0.4 * weights
    assert ct2_quantization(tiny_ct2) == "int8"


def test_refusals_name_the_file_and_the_reason(tiny_whisper: Path, tmp_path: Path) -> None:
    import torch

    text = tmp_path / "notes.pt"
    text.write_text("这不是模型")
    with pytest.raises(ConversionFailed, match=r"cannot convert .*notes\.pt: not a torch"):
        convert_checkpoint(text, out=tmp_path / "a")

    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(ConversionFailed, match="not an openai-whisper checkpoint"):
        convert_checkpoint(other, out=tmp_path / "b")

    damaged = tmp_path / "damaged.pt"
    data = torch.load(tiny_whisper, weights_only=True)
    del data["model_state_dict"]["decoder.blocks.0.cross_attn.key.weight"]
    torch.save(data, damaged)
    with pytest.raises(ConversionFailed) as caught:
        convert_checkpoint(damaged, out=tmp_path / "c")
    assert "'decoder.blocks.0.cross_attn.key.weight' is missing" in str(caught.value)
    assert "\n" not in str(caught.value)

    with pytest.raises(ConversionFailed, match="quantization 'int4'"):
        convert_checkpoint(tiny_whisper, out=tmp_path / "d", quantization="int4")
    (tmp_path / "taken").mkdir()
    with pytest.raises(ConversionFailed, match="already exists; --force"):
        convert_checkpoint(tiny_whisper, out=tmp_path / "taken")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "damaged.pt",
        "notes.pt",
        "other.pt",
        "taken",
    ]  # fmt: skip  (nothing half-written)
