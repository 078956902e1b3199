"""What word timings cost in the database: our compact JSON per segment against the alternatives.

A synthetic Chinese transcript (words of one or two characters, about four characters a
second, short pauses now and then) is stored four ways in SQLite files of the segment
table's shape; each file is vacuumed and its growth over the table without words divided
by the number of words:

- none: the segment table as before (the baseline);
- ours: ``segment.words``, three integers a word as compact JSON (``transcripts.words``);
- verbose JSON: the same column with whisper's word objects (start, end, word);
- a row per word: a ``word`` table (segment, position, start, end, characters) with an
  index on the segment.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

from common import markdown_table, write_result

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transcripts.words import Word, store_words  # noqa: E402

SEGMENTS = 5000
CHARS = "政协委员听众来信医保养老服务社区电梯公交学校医院问题政策补贴办理部门我们这个就是"


def transcript(seed: int = 5) -> list[tuple[float, float, str, list[Word]]]:
    rng = random.Random(seed)
    clock = 0.0
    out = []
    for _ in range(SEGMENTS):
        start = clock
        words = []
        for _ in range(rng.randint(8, 30)):
            text = "".join(rng.choice(CHARS) for _ in range(rng.choice((1, 1, 2, 2, 2, 3))))
            if rng.random() < 0.1:
                clock += rng.uniform(0.1, 0.6)
            end = clock + 0.25 * len(text) * rng.uniform(0.7, 1.3)
            words.append(Word(round(clock, 2), round(end, 2), text))
            clock = end
        out.append((start, clock, "".join(w.text for w in words), words))
        clock += rng.uniform(0.2, 1.0)
    return out


def build(path: Path, kind: str, segments: list[tuple[float, float, str, list[Word]]]) -> int:
    db = sqlite3.connect(path)
    db.execute(
        'CREATE TABLE segment (id INTEGER PRIMARY KEY, episode_id INTEGER, start REAL, "end" '
        "REAL, text TEXT, text_norm TEXT, words TEXT)"
    )
    if kind == "a row per word":
        db.execute(
            "CREATE TABLE word (id INTEGER PRIMARY KEY, segment_id INTEGER, position INTEGER, "
            'start REAL, "end" REAL, chars INTEGER)'
        )
        db.execute("CREATE INDEX ix_word_segment ON word (segment_id)")
    for i, (start, end, text, words) in enumerate(segments, start=1):
        stored = None
        if kind == "ours":
            stored = store_words(words, text=text, segment_start=start)
        elif kind == "verbose JSON":
            stored = json.dumps(
                [{"start": w.start, "end": w.end, "word": w.text} for w in words],
                ensure_ascii=False,
            )
        db.execute(
            "INSERT INTO segment VALUES (?, 1, ?, ?, ?, ?, ?)", (i, start, end, text, text, stored)
        )
        if kind == "a row per word":
            db.executemany(
                'INSERT INTO word (segment_id, position, start, "end", chars) VALUES (?,?,?,?,?)',
                [(i, n, w.start, w.end, len(w.text)) for n, w in enumerate(words)],
            )
    db.commit()
    db.execute("VACUUM")
    db.close()
    return path.stat().st_size


def word_storage() -> None:
    segments = transcript()
    words = sum(len(w) for *_, w in segments)
    chars = sum(len(t) for _, _, t, _ in segments)
    kinds = ("none", "ours", "verbose JSON", "a row per word")
    with tempfile.TemporaryDirectory() as tmp:
        sizes = {kind: build(Path(tmp) / f"{i}.db", kind, segments) for i, kind in enumerate(kinds)}
    rows, results = [], []
    for kind in kinds[1:]:
        extra = sizes[kind] - sizes["none"]
        rows.append([kind, f"{sizes[kind] / 1e6:.2f}", f"{extra / words:.1f}"])
        results.append({"storage": kind, "bytes": sizes[kind], "bytes_per_word": extra / words})
    per_hour = words / (segments[-1][1] / 3600)
    print(
        f"\n{SEGMENTS} segments, {words} words ({chars} characters), {per_hour:.0f} words an hour\n"
    )
    print(markdown_table(["word timings stored as", "database MB", "bytes per word"], rows))
    path = write_result(
        "transcribe_words",
        {
            "segments": SEGMENTS,
            "words": words,
            "characters": chars,
            "baseline_bytes": sizes["none"],
            "words_per_hour": round(per_hour),
            "results": results,
        },
    )
    print(f"\nwritten {path.relative_to(ROOT)}")
