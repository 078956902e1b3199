"""Which whisper models are on this machine, where, and loading one without ever downloading.

This machine has no network. ``whisper.load_model("small")`` would try to download the
checkpoint when it is missing (or when its checksum differs), so a model is always
resolved to a file here first and handed to ``whisper.load_model`` as a path.

A model setting is either an official name (``tiny`` … ``large-v3``, ``turbo``), looked up
as ``<file>.pt`` in ``$HOTLINE_WHISPER_DIR`` and then whisper's own cache
(``$XDG_CACHE_HOME/whisper``, default ``~/.cache/whisper``), or a checkpoint path.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.errors import HotlineError, InvalidInput

WHISPER_DIR_ENV = "HOTLINE_WHISPER_DIR"

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
    """A checkpoint file that whisper cannot load."""


@dataclass(frozen=True)
class OfflineModel:
    """One model as ``hotline models list`` shows it."""

    name: str
    file: str
    path: Path | None
    """Where it is; None when it is not on this machine."""
    size: int | None

    @property
    def available(self) -> bool:
        return self.path is not None


def cache_dirs() -> list[Path]:
    """Folders searched for named models, in order."""
    dirs = []
    configured = os.environ.get(WHISPER_DIR_ENV, "").strip()
    if configured:
        dirs.append(Path(configured).expanduser())
    default = Path(os.path.expanduser("~")) / ".cache"
    dirs.append(Path(os.environ.get("XDG_CACHE_HOME") or default) / "whisper")
    return dirs


def _find_file(file: str) -> Path | None:
    for folder in cache_dirs():
        candidate = folder / file
        if candidate.is_file():
            return candidate
    return None


def list_models() -> list[OfflineModel]:
    """Every official model (found or not) and any other checkpoint in the searched folders."""
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
    spec = spec.strip()
    if not spec:
        raise InvalidInput("transcribe.model is empty: name a whisper model or a checkpoint")
    if spec in MODEL_FILES:
        path = _find_file(MODEL_FILES[spec])
        if path is None:
            searched = ", ".join(str(d) for d in cache_dirs())
            raise ModelUnavailable(
                f"whisper model {spec!r} is not available offline: no {MODEL_FILES[spec]} in "
                f"{searched}; {how_to_provide(spec)}"
            )
        return spec, path
    path = Path(spec).expanduser()
    if not path.is_absolute() and base is not None and (base / path).exists():
        path = base / path
    if not path.exists():
        known = ", ".join(n for n in MODEL_FILES if "." not in n)
        raise ModelUnavailable(
            f"whisper model {spec!r} is neither a known model name ({known}) nor an existing "
            f"checkpoint file; {how_to_provide('small')}"
        )
    if not path.is_file():
        raise ModelUnavailable(f"whisper checkpoint {path} is not a file")
    return path.stem, path.resolve()


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
