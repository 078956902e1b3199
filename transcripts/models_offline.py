"""Which whisper models are on this machine, where, and loading one without ever downloading.

This machine has no network. ``whisper.load_model("small")`` would try to download the
checkpoint when it is missing (or when its checksum differs), and faster-whisper would
fetch a named model from the Hugging Face hub, so a model is always resolved to a file or
folder here first and handed to the engine as a path.

Two kinds of model, one per backend:

- an openai-whisper checkpoint (``small.pt``), for the ``openai-whisper`` backend;
- a CTranslate2 model folder (``model.bin``, ``config.json``, ``tokenizer.json``), for
  ``faster-whisper``; ``hotline models convert`` makes one from a checkpoint, named
  ``<name>-ct2-<quantization>`` beside it.

A model setting is either an official name (``tiny`` … ``large-v3``, ``turbo``), looked up
in ``$HOTLINE_WHISPER_DIR`` and then whisper's own cache (``$XDG_CACHE_HOME/whisper``,
default ``~/.cache/whisper``), or a path to a checkpoint file or a CTranslate2 folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.errors import HotlineError, InvalidInput

WHISPER_DIR_ENV = "HOTLINE_WHISPER_DIR"
OPENAI = "openai-whisper"
FASTER = "faster-whisper"
BACKENDS = (OPENAI, FASTER)
MARKER_FILE = "hotline-model.json"
"""Written by ``hotline models convert`` into the folder: what it was converted from."""
CT2_QUANTIZATIONS = ("int8", "float16", "float32")
CT2_SUFFIX = "-ct2-"

# Official name → checkpoint file name, as in whisper's ``_MODELS`` URLs (a test checks they
# agree). Kept here so that listing models does not import torch.
MODEL_FILES: dict[str, str] = {
    "tiny.en": "tiny.en.pt",
    "tiny": "tiny.pt",
    "base.en": "base.en.pt",
    "base": "base.pt",
    "small.en": "small.en.pt",
    "small": "small.pt",
    "medium.en": "medium.en.pt",
    "medium": "medium.pt",
    "large-v1": "large-v1.pt",
    "large-v2": "large-v2.pt",
    "large-v3": "large-v3.pt",
    "large": "large-v3.pt",
    "large-v3-turbo": "large-v3-turbo.pt",
    "turbo": "large-v3-turbo.pt",
}


class ModelUnavailable(InvalidInput):
    """A whisper model that is not on this machine (and cannot be downloaded here)."""


class CorruptCheckpoint(HotlineError):
    """A checkpoint file (or CTranslate2 folder) that its engine cannot load."""


@dataclass(frozen=True)
class OfflineModel:
    """One model as ``hotline models list`` shows it."""

    name: str
    file: str
    path: Path | None
    """Where it is; None when it is not on this machine."""
    size: int | None
    backend: str = OPENAI
    """The backend that runs it: openai-whisper (a checkpoint) or faster-whisper (CTranslate2)."""
    quantization: str = ""
    """Weight type of a CTranslate2 model (int8, float16, float32); empty for checkpoints."""

    @property
    def available(self) -> bool:
        return self.path is not None

    @property
    def kind(self) -> str:
        return "ctranslate2" if self.backend == FASTER else "checkpoint"


def cache_dirs() -> list[Path]:
    """Folders searched for named models, in order."""
    dirs = []
    configured = os.environ.get(WHISPER_DIR_ENV, "").strip()
    if configured:
        dirs.append(Path(configured).expanduser())
    default = Path(os.path.expanduser("~")) / ".cache"
    dirs.append(Path(os.environ.get("XDG_CACHE_HOME") or default) / "whisper")
    return dirs


def convert_dir() -> Path:
    """Where ``hotline models convert`` writes by default: the first folder searched."""
    return cache_dirs()[0]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def is_ct2_folder(path: Path) -> bool:
    """A CTranslate2 model folder: ``model.bin`` beside ``config.json``."""
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def ct2_quantization(folder: Path) -> str:
    """The weight type of a CTranslate2 folder, from our marker or its name ("" unknown)."""
    marker = folder / MARKER_FILE
    if marker.is_file():
        try:
            value = json.loads(marker.read_text(encoding="utf-8")).get("quantization", "")
        except (ValueError, OSError):
            value = ""
        if isinstance(value, str) and value:
            return value
    _, _, suffix = folder.name.rpartition(CT2_SUFFIX)
    return suffix if suffix in CT2_QUANTIZATIONS else ""


def ct2_model_name(folder: Path) -> str:
    """``small`` for ``small-ct2-int8``; the folder name otherwise."""
    stem, sep, suffix = folder.name.rpartition(CT2_SUFFIX)
    return stem if sep and suffix in CT2_QUANTIZATIONS else folder.name


def _find_file(file: str) -> Path | None:
    for folder in cache_dirs():
        candidate = folder / file
        if candidate.is_file():
            return candidate
    return None


def _find_ct2(name: str, prefer: str) -> Path | None:
    """A converted model of ``name``: ``prefer``'s quantization first, then int8, …"""
    order = [prefer, *CT2_QUANTIZATIONS] if prefer in CT2_QUANTIZATIONS else CT2_QUANTIZATIONS
    stem = Path(MODEL_FILES.get(name, f"{name}.pt")).stem
    for quantization in dict.fromkeys(order):
        for folder in cache_dirs():
            candidate = folder / f"{stem}{CT2_SUFFIX}{quantization}"
            if is_ct2_folder(candidate):
                return candidate
    return None


def _ct2_folders() -> list[Path]:
    found = []
    for folder in cache_dirs():
        if folder.is_dir():
            found += sorted(p for p in folder.iterdir() if p.is_dir() and is_ct2_folder(p))
    return found


def list_models() -> list[OfflineModel]:
    """Every official checkpoint (found or not), any other checkpoint in the searched folders,
    and every CTranslate2 model folder there."""
    models = []
    for name, file in MODEL_FILES.items():
        path = _find_file(file)
        models.append(OfflineModel(name, file, path, path.stat().st_size if path else None))
    official = set(MODEL_FILES.values())
    for folder in cache_dirs():
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.pt")):
            if path.name not in official:
                models.append(OfflineModel(str(path), path.name, path, path.stat().st_size))
    for path in _ct2_folders():
        models.append(
            OfflineModel(
                ct2_model_name(path),
                path.name,
                path,
                folder_bytes(path),
                backend=FASTER,
                quantization=ct2_quantization(path),
            )
        )
    return models


def how_to_provide(name: str) -> str:
    """The instructions a user needs when model ``name`` is missing."""
    file = MODEL_FILES.get(name, f"{name}.pt")
    return (
        f"on a connected machine run `python -c \"import whisper; whisper.load_model('{name}')\"` "
        f"and copy ~/.cache/whisper/{file} into {cache_dirs()[-1]} (or ${WHISPER_DIR_ENV}), "
        "or set transcribe.model to a checkpoint path"
    )


def resolve_model(spec: str, *, base: Path | None = None) -> tuple[str, Path]:
    """(model name, checkpoint file) for a model setting: an official name or a path.

    A relative path is taken relative to ``base`` (the station) when the file is there.

    Raises:
        ModelUnavailable: a named model that is not on disk, or a path that does not exist,
            with instructions on how to provide it.
    """
    name, path = _resolve_path(spec, base=base)
    if path is not None:
        if path.is_dir():
            raise ModelUnavailable(
                f"{path} is a CTranslate2 model folder, which openai-whisper cannot load; "
                'set transcribe.backend = "faster-whisper" or name a .pt checkpoint'
            )
        return name, path
    found = _find_file(MODEL_FILES[name])
    if found is None:
        searched = ", ".join(str(d) for d in cache_dirs())
        raise ModelUnavailable(
            f"whisper model {name!r} is not available offline: no {MODEL_FILES[name]} in "
            f"{searched}; {how_to_provide(name)}"
        )
    return name, found


def resolve_ct2_model(
    spec: str, *, base: Path | None = None, prefer: str = "int8"
) -> tuple[str, Path]:
    """(model name, CTranslate2 folder) for a model setting: an official name or a folder.

    A named model is a converted folder ``<name>-ct2-<quantization>`` in the searched
    folders, ``prefer``'s quantization first.

    Raises:
        ModelUnavailable: no converted model (saying how to convert the checkpoint when it
            is here), or a path that is not a CTranslate2 folder.
    """
    name, path = _resolve_path(spec, base=base)
    if path is not None:
        if not path.is_dir() or not is_ct2_folder(path):
            raise ModelUnavailable(
                f"{path} is not a CTranslate2 model folder (model.bin and config.json), which "
                f"faster-whisper needs; convert a checkpoint with `hotline models convert {path}`"
                if path.suffix == ".pt"
                else f"{path} is not a CTranslate2 model folder (no model.bin and config.json)"
            )
        return ct2_model_name(path), path
    found = _find_ct2(name, prefer)
    if found is not None:
        return name, found
    checkpoint = _find_file(MODEL_FILES[name])
    searched = ", ".join(str(d) for d in cache_dirs())
    stem = Path(MODEL_FILES[name]).stem
    if checkpoint is not None:
        how = f"convert it here, offline: `hotline models convert {checkpoint}`"
    else:
        how = f"{how_to_provide(name)}, then `hotline models convert` it"
    raise ModelUnavailable(
        f"whisper model {name!r} is not available offline for faster-whisper: no "
        f"{stem}{CT2_SUFFIX}{{int8,float16,float32}} folder in {searched}; {how}"
    )


def _resolve_path(spec: str, *, base: Path | None) -> tuple[str, Path | None]:
    """(name, None) for an official name; (stem, path) for an existing file or folder."""
    spec = spec.strip()
    if not spec:
        raise InvalidInput("transcribe.model is empty: name a whisper model or a checkpoint")
    if spec in MODEL_FILES:
        return spec, None
    path = Path(spec).expanduser()
    if not path.is_absolute() and base is not None and (base / path).exists():
        path = base / path
    if not path.exists():
        known = ", ".join(n for n in MODEL_FILES if "." not in n)
        raise ModelUnavailable(
            f"whisper model {spec!r} is neither a known model name ({known}) nor an existing "
            f"checkpoint file or model folder; {how_to_provide('small')}"
        )
    if not path.is_file() and not path.is_dir():
        raise ModelUnavailable(f"whisper model {path} is neither a file nor a folder")
    return path.stem, path.resolve()


def prefers_ct2(spec: str, *, base: Path | None = None, prefer: str = "int8") -> bool:
    """True when ``spec`` names a CTranslate2 model here: the ``auto`` backend's choice."""
    try:
        name, path = _resolve_path(spec, base=base)
    except InvalidInput:
        return False
    if path is not None:
        return path.is_dir() and is_ct2_folder(path)
    return _find_ct2(name, prefer) is not None


def load_checkpoint(path: Path, *, name: str, device: str) -> Any:
    """Load a whisper model from ``path`` with ``whisper.load_model`` (never a download).

    Raises:
        CorruptCheckpoint: naming the file, when it is not a loadable whisper checkpoint.
    """
    import whisper  # heavy (torch): only when a model is really loaded

    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of a broken file before failing on it:
            # the user gets our one line instead.
            warnings.simplefilter("ignore")
            model = whisper.load_model(str(path), device=device)
    except Exception as exc:  # unpickling, missing keys, wrong shapes: all the file's fault
        raise CorruptCheckpoint(_corrupt_message(path, exc)) from exc
    heads = getattr(whisper, "_ALIGNMENT_HEADS", {}).get(name)
    if heads is not None and path.name == MODEL_FILES.get(name):
        # load_model only sets these for names; only word timestamps need them, so a
        # checkpoint whose shape does not match its file name still transcribes.
        with contextlib.suppress(RuntimeError, ValueError):
            model.set_alignment_heads(heads)
    return model


def _corrupt_message(path: Path, exc: BaseException) -> str:
    reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    reason = reason or type(exc).__name__
    if len(reason) > 160:
        reason = reason[:159] + "…"
    return (
        f"whisper checkpoint {path} is corrupt or not a whisper model ({reason}); "
        "copy it again or point transcribe.model at a good checkpoint"
    )
