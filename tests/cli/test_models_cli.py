"""`hotline models convert|list` and choosing the backend, through the real CLI, offline.

The checkpoint is the tests' tiny random-weight whisper; converting it is the same code a
station runs on its ``small.pt``. The text is garbage, so the tests check what a user sees:
exit codes, one-line messages, the folder written, which backend ran.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from whisper_fixtures import (
    add_mastered_episode,
    offline_models_fixture,  # noqa: F401 (the offline_models fixture)
    tiny_settings,
    tiny_whisper_fixture,  # noqa: F401 (the tiny_whisper fixture)
    tone_and_silence,
)

from hotline.station import Station

pytestmark = pytest.mark.usefixtures("offline_models")


def test_convert_a_named_checkpoint_then_list_and_use_it_by_name(
    cli: Callable[..., object], station: Station, offline_models: Path, tiny_whisper: Path
) -> None:
    (offline_models / "tiny.pt").write_bytes(tiny_whisper.read_bytes())
    before = cli("models", "list")
    assert "no CTranslate2 model yet: `hotline models convert" in before.stdout

    done = cli("models", "convert", offline_models / "tiny.pt")
    assert done.exit_code == 0, done.stderr
    folder = offline_models / "tiny-ct2-int8"
    assert done.stdout.startswith(f"converted {offline_models / 'tiny.pt'} → {folder} (int8, ")
    assert 'transcribe.model = "tiny"' in done.stdout
    assert {"model.bin", "config.json", "tokenizer.json"} <= {p.name for p in folder.iterdir()}

    listed = {(m["name"], m["kind"]): m for m in cli("models", "list", "--json").json()["models"]}
    converted = listed[("tiny", "ctranslate2")]
    assert converted["backend"] == "faster-whisper" and converted["quantization"] == "int8"
    assert converted["path"] == str(folder) and converted["bytes"] > 0
    assert listed[("tiny", "checkpoint")]["backend"] == "openai-whisper"
    assert "faster-whisper (int8)" in cli("models", "list").stdout

    # auto: the converted model is there, so faster-whisper runs it; --backend overrides.
    add_mastered_episode(station, 999, tone_and_silence([("tone", 6), ("silence", 2)]))
    tiny_settings(station, Path("tiny"))
    auto = cli("transcribe", 999, "--json")
    assert auto.exit_code == 0, auto.stderr
    assert (auto.json()["backend"], auto.json()["model"]) == ("faster-whisper", "tiny")
    reference = cli("transcribe", 999, "--backend", "openai-whisper", "--json")
    assert reference.exit_code == 0, reference.stderr
    assert reference.json()["backend"] == "openai-whisper"
    assert reference.json()["outcome"] == "transcribed"  # another engine: not "current"


def test_convert_to_a_chosen_folder_and_refuse_to_overwrite(
    cli: Callable[..., object], tiny_whisper: Path, tmp_path: Path
) -> None:
    out = tmp_path / "站台模型" / "tiny-fp32"
    done = cli("models", "convert", tiny_whisper, "--quantization", "float32", "--out", out)
    assert done.exit_code == 0, done.stderr
    data = json.loads((out / "hotline-model.json").read_text())
    assert data["quantization"] == "float32" and data["dims"]["n_text_layer"] == 1
    assert f'transcribe.model = "{out}"' in done.stdout  # not an official name: the path

    again = cli("models", "convert", tiny_whisper, "--quantization", "float32", "--out", out)
    assert again.exit_code == 1
    assert again.stderr == f"hotline: error: {out} already exists; --force replaces it\n"
    forced = cli("models", "convert", tiny_whisper, "-q", "float32", "--out", out, "--force")
    assert forced.exit_code == 0, forced.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a torch checkpoint"),
        (b"\x80\x04 not a checkpoint", "not a torch checkpoint"),
        (b"PK\x03\x04 broken zip", "not a torch checkpoint"),
    ],
)
def test_a_file_that_cannot_be_converted_says_why_in_one_line(
    cli: Callable[..., object], tmp_path: Path, content: bytes, reason: str
) -> None:
    bad = tmp_path / "坏的.pt"
    bad.write_bytes(content)
    result = cli("models", "convert", bad, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"hotline: error: cannot convert {bad}: {reason}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    missing = cli("models", "convert", tmp_path / "无.pt", "--out", tmp_path / "out")
    assert missing.stderr == f"hotline: error: cannot convert {tmp_path / '无.pt'}: no such file\n"
    quant = cli("models", "convert", bad, "--quantization", "int4")
    assert quant.exit_code == 1 and "--quantization 'int4': use one of int8" in quant.stderr


def test_faster_whisper_without_a_converted_model_says_how_to_make_one(
    cli: Callable[..., object], station: Station, offline_models: Path, tiny_whisper: Path
) -> None:
    add_mastered_episode(station, 999, tone_and_silence([("tone", 6)]))
    tiny_settings(station, Path("small"), backend="faster-whisper")
    nothing = cli("transcribe", 999)
    assert nothing.exit_code == 1
    line = nothing.stderr.strip()
    assert line.startswith(
        "hotline: error: whisper model 'small' is not available offline for faster-whisper"
    )
    assert "whisper.load_model('small')" in line and "\n" not in line

    (offline_models / "small.pt").write_bytes(tiny_whisper.read_bytes())
    checkpoint_only = cli("transcribe", 999)
    assert checkpoint_only.exit_code == 1
    assert f"convert it here, offline: `hotline models convert {offline_models / 'small.pt'}`" in (
        checkpoint_only.stderr
    )
    a_pt_path = cli("transcribe", 999, "--model", offline_models / "small.pt")
    assert a_pt_path.exit_code == 1
    assert "is not a CTranslate2 model folder" in a_pt_path.stderr
    unknown = cli("transcribe", 999, "--backend", "whisperx")
    assert unknown.exit_code == 1
    assert "backend 'whisperx': use auto, openai-whisper or faster-whisper" in unknown.stderr


def test_a_broken_model_folder_is_named(
    cli: Callable[..., object], station: Station, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-ct2"
    broken.mkdir()
    (broken / "model.bin").write_bytes(b"\x00" * 64)
    (broken / "config.json").write_text("{}")
    add_mastered_episode(station, 999, tone_and_silence([("tone", 6)]))
    tiny_settings(station, broken)
    result = cli("transcribe", 999)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"hotline: error: CTranslate2 model {broken} cannot be loaded")
    assert result.stderr.count("\n") == 1
