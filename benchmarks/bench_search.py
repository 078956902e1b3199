"""Transcript search on a 20-year archive: index build, size, and query latency vs a full scan.

Builds a synthetic archive of 1000 episodes × 60 minutes (about 15 million characters of
Chinese in segments of 8–30 characters; words drawn with Zipf-like frequencies from a word
list, some of them in traditional script) through the real storage path
(``transcripts.store.save_transcript``: normalisation, segments, postings, segment bitmaps,
statistics).
Then times, per query class (1-, 2-, 3-, 4-character terms and two-term queries, sampled
from the corpus's own vocabulary and always including its most frequent items):

- the default listing (top 20 with snippets, newest first, with totals),
- ``--by-episode`` and ``--rank``,
- a brute-force scan of the same database (``instr``/``strpos`` over every segment's
  text_norm, sorted newest first, counted) for a subset of the queries, also checking the
  answers agree.

The archive is built on SQLite; for PostgreSQL it is moved with ``hotline db copy``'s
code (``hotline.dbcopy``) into a fresh database on a throwaway server (fsync on; or the
server of ``HOTLINE_TEST_PG_URL``), and the same queries are timed there. PostgreSQL runs
in another process, so its latency is the wall time; SQLite's is the CPU time.

    python benchmarks/bench_search.py [--episodes 1000] [--minutes 60] [--queries 30]
                                      [--keep DIR | --reuse DIR]
                                      [--database sqlite|postgresql|both]

Prints a markdown table and writes benchmarks/results/search.json.
"""

from __future__ import annotations

import argparse
import bisect
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from common import markdown_table, write_result
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the server helper
import pg_server  # noqa: E402

from hotline import dbcopy  # noqa: E402
from hotline.models import Episode  # noqa: E402
from hotline.station import Station, init_station, open_station  # noqa: E402
from transcripts.formats import Cue  # noqa: E402
from transcripts.normalize import normalize  # noqa: E402
from transcripts.search import search, search_by_episode  # noqa: E402
from transcripts.store import save_transcript  # noqa: E402

TARGET_LIST_P95_MS = 10.0
TARGET_SPEEDUP = 20.0
TARGET_BY_EPISODE_P95_MS = 50.0
TARGET_RANK_P95_MS = 100.0
TEN_PERCENT = 0.10
SEED = 20220813

WORDS = """
的 是 了 在 我们 这个 就是 一个 大家 我 你 他 也 都 还 有 没有 说 问题 现在 今天 听众 朋友
政协 委员 提案 界别 社情民意 热线 节目 主持人 嘉宾 来电 来信 反映 部门 解决 情况 工作 群众
养老 医保 教育 住房 就业 交通 环境 食品安全 社区 居家养老 养老金 养老院 医疗 医院 看病 报销
学校 老师 学生 孩子 家长 课外 减负 停车 地铁 公交 垃圾分类 物业 小区 房价 租房 社保 退休
政府 政策 落实 推进 建议 意见 调研 协商 民主 监督 参政议政 发展 经济 企业 营商环境 中小企业
农村 农民 乡村振兴 城市 城管 规划 拆迁 改造 老旧小区 电梯 加装 噪音 污染 绿化 公园 文化
体育 健身 图书馆 博物馆 旅游 景区 门票 价格 市场 菜价 超市 网购 快递 外卖 骑手 劳动者 权益
工资 拖欠 合同 仲裁 法律 律师 维权 消费者 投诉 举报 热线电话 一网通办 窗口 审批 服务 效率
残疾人 无障碍 困难 救助 低保 慈善 志愿者 疫情 防控 核酸 疫苗 卫生 健康 体检 药品 集采
中医 医生 护士 挂号 排队 急诊 儿科 妇幼 生育 托育 幼儿园 入园 学位 高考 中考 职业教育 大学
科技 创新 人才 引进 数字 互联网 手机 老年人 智能手机 数字鸿沟 诈骗 防范 安全 消防 应急
谢谢 您好 请问 那么 所以 因为 但是 如果 然后 其实 非常 比较 应该 可以 需要 希望 觉得 知道
关注 关心 重视 研究 回应 答复 跟踪 转办 办理 结果 满意 不满意 继续 努力 一起 共同 社会
委员会 常委会 人民政府 全国政协 市政协 区政协 提案办理 民生实事 十四五 高质量发展
人民代表大会 中国人民政治协商会议 共同富裕 碳达峰 碳中和 长三角 一体化 新时代
"""
COMMON_CHARS = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家"
    "学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见"
    "经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话"
    "儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真"
    "听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立"
    "马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制"
    "解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎"
    "元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武"
)
POSTINGS_SQL = "SELECT COUNT(*), COALESCE(SUM(LENGTH(keys)), 0) / 4 FROM search_posting"
"""(rows, occurrences): one row per token and episode, four bytes per occurrence."""
BITMAPS_SQL = "SELECT COUNT(*), COALESCE(SUM(LENGTH(bits)), 0) FROM search_bitmap"
"""(rows, bytes) of the segment bitmaps kept for tokens in many of an episode's segments."""
PUNCTUATION = ["，", "，", "，", "。", "？", "、"]


def vocabulary(rng: random.Random) -> tuple[list[str], list[str], list[float]]:
    """(simplified words, their traditional forms, cumulative Zipf weights)."""
    import opencc

    words = list(dict.fromkeys(WORDS.split()))
    extra = set()
    while len(extra) < 3000:
        size = rng.choice((2, 2, 2, 3, 4))
        extra.add("".join(rng.choice(COMMON_CHARS) for _ in range(size)))
    # Function words first (most frequent), then the show's vocabulary and made-up words.
    head, rest = words[:30], words[30:] + sorted(extra)
    rng.shuffle(rest)
    words = head + rest
    to_traditional = opencc.OpenCC("s2t")
    traditional = [to_traditional.convert(w) for w in words]
    weights, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1 / rank**1.05
        weights.append(total)
    return words, traditional, weights


def segments_for(
    rng: random.Random, words: list[str], traditional: list[str], cum: list[float], chars: int
) -> list[str]:
    """About ``chars`` characters of speech cut into segments of 8–30 characters."""
    out: list[str] = []
    produced = 0
    total = cum[-1]
    while produced < chars:
        target = rng.randint(8, 30)
        pieces: list[str] = []
        length = 0
        while length < target:
            i = bisect.bisect_left(cum, rng.random() * total)
            word = traditional[i] if rng.random() < 0.15 else words[i]
            pieces.append(word)
            length += len(word)
            if rng.random() < 0.12:
                pieces.append(rng.choice(PUNCTUATION))
                length += 1
        pieces.append("。")
        text = "".join(pieces)
        out.append(text)
        produced += len(text)
    return out


def build(root: Path, episodes: int, minutes: int, rng: random.Random) -> dict[str, Any]:
    station, _ = init_station(root)
    # A bigger page cache for the bulk build only; queries later use the station as shipped.
    event.listen(
        station.engine,
        "connect",
        lambda dbapi, _rec: dbapi.execute("PRAGMA cache_size=-400000"),
    )
    station.engine.dispose()
    words, traditional, cum = vocabulary(rng)
    first_air = datetime(2003, 1, 4, 3, 0, tzinfo=UTC)
    with station.session() as session:
        session.connection().execute(
            sa.insert(Episode),
            [
                {
                    "number": n,
                    "title": f"第{n}期",
                    "air_start": first_air + timedelta(days=7 * (n - 1)),
                    "hosts": [],
                }
                for n in range(1, episodes + 1)
            ],
        )
    chars_per_episode = minutes * 250  # about 250 characters of speech a minute
    total_chars = total_segments = 0
    started = time.perf_counter()
    generate_s = 0.0
    batch = 20
    for first in range(1, episodes + 1, batch):
        with station.session() as session:
            for number in range(first, min(first + batch, episodes + 1)):
                t0 = time.perf_counter()
                texts = segments_for(rng, words, traditional, cum, chars_per_episode)
                step = minutes * 60 / len(texts)
                cues = [Cue(i * step, i * step + step * 0.9, t) for i, t in enumerate(texts)]
                generate_s += time.perf_counter() - t0
                save_transcript(session=session, episode=number, segments=cues, model="synthetic")
                total_chars += sum(map(len, texts))
                total_segments += len(texts)
        done = min(first + batch - 1, episodes)
        rate = (time.perf_counter() - started - generate_s) / done
        print(f"  built {done}/{episodes} episodes ({rate * 1000:.0f} ms each)", file=sys.stderr)
    build_s = time.perf_counter() - started - generate_s
    with station.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        rows, postings = conn.execute(sa.text(POSTINGS_SQL)).one()
        bitmap_rows, bitmap_bytes = conn.execute(sa.text(BITMAPS_SQL)).one()
        tokens = conn.execute(sa.text("SELECT COUNT(*) FROM search_token")).scalar()
    station.engine.dispose()
    return {
        "episodes": episodes,
        "minutes": minutes,
        "segments": total_segments,
        "chars": total_chars,
        "posting_rows": rows,
        "postings": postings,
        "bitmap_rows": bitmap_rows,
        "bitmap_mb": round(bitmap_bytes / 2**20, 1),
        "tokens": tokens,
        "build_seconds": round(build_s, 1),
        "generate_seconds": round(generate_s, 1),
    }


def archive_facts(root: Path) -> dict[str, Any]:
    """What a kept archive holds (for --reuse)."""
    station = open_station(root)
    with station.engine.connect() as conn:

        def count(sql: str) -> int:
            return int(conn.execute(sa.text(sql)).scalar() or 0)

        facts = {
            "reused": str(root),
            "episodes": count("SELECT COUNT(*) FROM search_episode"),
            "segments": count("SELECT COALESCE(SUM(segments), 0) FROM search_episode"),
            "chars": count("SELECT COALESCE(SUM(chars), 0) FROM search_episode"),
            "posting_rows": count("SELECT COUNT(*) FROM search_posting"),
            "postings": count("SELECT SUM(LENGTH(keys)) / 4 FROM search_posting"),
            "bitmap_rows": count("SELECT COUNT(*) FROM search_bitmap"),
            "bitmap_mb": round(count("SELECT SUM(LENGTH(bits)) FROM search_bitmap") / 2**20, 1),
            "tokens": count("SELECT COUNT(*) FROM search_token"),
        }
    station.engine.dispose()
    return facts


def db_megabytes(root: Path) -> float:
    files = [root / "hotline.db", root / "hotline.db-wal"]
    return round(sum(f.stat().st_size for f in files if f.exists()) / 2**20, 1)


def sample_queries(station: Station, per_class: int, rng: random.Random) -> dict[str, list[str]]:
    """Each class: its 5 most frequent items, then half by frequency, half uniformly."""
    with station.engine.connect() as conn:
        texts = [
            row[0]
            for row in conn.execute(
                sa.text("SELECT text FROM segment WHERE id % 97 = 0")  # a 1% sample
            )
        ]
    counts: dict[int, Counter[str]] = {n: Counter() for n in (1, 2, 3, 4)}
    for text in texts:
        clean = text.rstrip("。")
        for n in counts:
            counts[n].update(
                clean[i : i + n]
                for i in range(len(clean) - n + 1)
                if not any(p in clean[i : i + n] for p in PUNCTUATION)
            )
    classes: dict[str, list[str]] = {}
    for n, counter in counts.items():
        common = [item for item, _ in counter.most_common(5)]
        items, weights = zip(*counter.items(), strict=True)
        by_freq = rng.choices(items, weights=weights, k=(per_class - 5) // 2)
        uniform = rng.sample(items, per_class - 5 - len(by_freq))
        classes[f"{n} char"] = list(dict.fromkeys(common + by_freq + uniform))
    words = [w for w, _ in counts[2].most_common(400)]
    pairs = [(words[0], words[1]), (words[0], words[2]), (words[1], words[3])]
    while len(pairs) < per_class:
        a, b = rng.sample(words, 2)
        pairs.append((a, b))
    classes["two terms"] = [f"{a} {b}" for a, b in pairs]
    return classes


def timed(call: Callable[[], Any], runs: int = 1) -> tuple[float, float, Any]:
    """(median wall ms, median CPU ms, value) over ``runs`` calls.

    SQLite runs in this process, so CPU time is the latency on an idle machine; wall time
    also counts waiting for a core on a shared one.
    """
    walls, cpus = [], []
    value = None
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        value = call()
        cpus.append((time.process_time() - c0) * 1000)
        walls.append((time.perf_counter() - w0) * 1000)
    return statistics.median(walls), statistics.median(cpus), value


def brute_force(conn: sa.Connection, query: str) -> tuple[list[int], int, int]:
    """Top 20 segment ids newest first, matches and episodes, by scanning every segment."""
    terms = list(dict.fromkeys(normalize(t) for t in query.split()))
    find = "instr" if conn.dialect.name == "sqlite" else "strpos"
    where = " AND ".join(f"{find}(s.text_norm, :t{i}) > 0" for i in range(len(terms)))
    rows = conn.execute(
        sa.text(
            f"SELECT s.id, e.number, s.start FROM segment s JOIN episode e "
            f"ON e.id = s.episode_id WHERE {where}"
        ),
        {f"t{i}": t for i, t in enumerate(terms)},
    ).all()
    rows.sort(key=lambda r: (-r[1], r[2], r[0]))
    return [r[0] for r in rows[:20]], len(rows), len({r[1] for r in rows})


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(station: Station, classes: dict[str, list[str]], scans: int) -> dict[str, Any]:
    with station.engine.connect() as conn:
        total_segments = conn.execute(sa.text("SELECT COUNT(*) FROM segment")).scalar() or 1
    out: dict[str, Any] = {}
    with station.session() as session:
        conn = session.connection()
        for name, queries in classes.items():
            rows = []
            for i, query in enumerate(queries):
                search(session=session, query=query)  # warm the pages this query reads
                list_ms, list_cpu, result = timed(
                    lambda q=query: search(session=session, query=q), 5
                )
                by_ms, by_cpu, _ = timed(
                    lambda q=query: search_by_episode(session=session, query=q), 3
                )
                rank_ms, rank_cpu, _ = timed(
                    lambda q=query: search(session=session, query=q, rank=True), 3
                )
                row = {
                    "query": query,
                    "matches": result.matches,
                    "episodes": result.episodes,
                    "share": result.matches / total_segments,
                    "list_ms": list_ms,
                    "list_cpu_ms": list_cpu,
                    "by_episode_ms": by_ms,
                    "by_episode_cpu_ms": by_cpu,
                    "rank_ms": rank_ms,
                    "rank_cpu_ms": rank_cpu,
                }
                if i < scans:
                    scan_ms, scan_cpu, (top, matches, episodes) = timed(
                        lambda q=query: brute_force(conn, q)
                    )
                    row["scan_cpu_ms"] = scan_cpu
                    hit_ids = [hit.segment_id for hit in result.hits]
                    row["scan_ms"] = scan_ms
                    row["agrees"] = (matches, episodes) == (
                        result.matches,
                        result.episodes,
                    ) and top == hit_ids
                rows.append(row)
            out[name] = rows
            print(f"  measured {name}: {len(rows)} queries", file=sys.stderr)
    return out


def summarise(
    measured: dict[str, Any], *, wall: bool = False
) -> tuple[list[list[Any]], dict[str, Any]]:
    """The table rows and summary; ``wall``: latency is wall time (a server database), so
    speed-ups, worst cases and the by-episode and rank columns use it instead of CPU."""
    lat = "" if wall else "_cpu"
    table, summary = [], {}
    for name, rows in measured.items():
        lists = [r["list_ms"] for r in rows]
        list_cpu = [r["list_cpu_ms"] for r in rows]
        scanned = [r for r in rows if "scan_ms" in r]
        speedups = [r[f"scan{lat}_ms"] / max(r[f"list{lat}_ms"], 1e-3) for r in scanned]
        modest = [r for r in rows if r["share"] <= TEN_PERCENT]
        worst_by = max(rows, key=lambda r: r[f"by_episode{lat}_ms"])
        worst_rank = max(rows, key=lambda r: r[f"rank{lat}_ms"])
        entry = {
            "queries": len(rows),
            "max_share": max(r["share"] for r in rows),
            "list_p50_ms": percentile(lists, 0.5),
            "list_p95_ms": percentile(lists, 0.95),
            "list_cpu_p50_ms": percentile(list_cpu, 0.5),
            "list_cpu_p95_ms": percentile(list_cpu, 0.95),
            "list_worst": {
                k: max(rows, key=lambda r: r["list_cpu_ms"])[k]
                for k in ("query", "share", "list_cpu_ms", "list_ms")
            },
            "scan_p50_ms": percentile([r["scan_ms"] for r in scanned], 0.5),
            "scan_cpu_p50_ms": percentile([r[f"scan{lat}_ms"] for r in scanned], 0.5),
            "min_speedup": min(speedups) if speedups else float("nan"),
            "median_speedup": statistics.median(speedups) if speedups else float("nan"),
            "by_episode_p50_ms": percentile([r["by_episode_ms"] for r in modest], 0.5),
            "by_episode_p95_ms": percentile([r["by_episode_ms"] for r in modest], 0.95),
            "by_episode_cpu_p95_ms": percentile([r[f"by_episode{lat}_ms"] for r in modest], 0.95),
            "by_episode_worst": {
                k: worst_by[k] for k in ("query", "share", "by_episode_ms", "by_episode_cpu_ms")
            },
            "rank_p50_ms": percentile([r["rank_ms"] for r in modest], 0.5),
            "rank_p95_ms": percentile([r["rank_ms"] for r in modest], 0.95),
            "rank_cpu_p95_ms": percentile([r[f"rank{lat}_ms"] for r in modest], 0.95),
            "latency": "wall" if wall else "cpu",
            "rank_worst": {k: worst_rank[k] for k in ("query", "share", "rank_ms", "rank_cpu_ms")},
            "scans_agree": all(r["agrees"] for r in scanned),
        }
        summary[name] = entry
        table.append(
            [
                name,
                f"{entry['max_share']:.0%}",
                f"{entry['list_cpu_p50_ms']:.1f} / {entry['list_p50_ms']:.1f}",
                f"{entry['list_cpu_p95_ms']:.1f} / {entry['list_p95_ms']:.1f}",
                f"{entry['scan_cpu_p50_ms']:.0f}",
                f"{entry['min_speedup']:.0f}×",
                f"{entry['by_episode_cpu_p95_ms']:.1f}",
                f"{worst_by[f'by_episode{lat}_ms']:.0f} ({worst_by['share']:.0%})",
                f"{entry['rank_cpu_p95_ms']:.1f}",
                f"{worst_rank[f'rank{lat}_ms']:.0f} ({worst_rank['share']:.0%})",
                "yes" if entry["scans_agree"] else "NO",
            ]
        )
    return table, summary


def on_postgres(root: Path, server: str) -> tuple[Station, str, float]:
    """The archive at ``root`` copied into a new database on ``server``: (station, its
    database URL, seconds the copy took)."""
    url = pg_server.create_database(server, "hotline_bench_search")
    sqlite_station = open_station(root)
    target = sa.create_engine(url)
    started = time.perf_counter()

    def progress(table: str, rows: int) -> None:
        if rows % 500_000 < dbcopy.BATCH:
            print(f"  copying {table}: {rows} rows", file=sys.stderr)

    dbcopy.copy_station(sqlite_station.engine, target, progress=progress)
    seconds = time.perf_counter() - started
    target.dispose()
    sqlite_station.engine.dispose()
    station = Station(root=root, settings=sqlite_station.settings, database_url=url)
    return station, url, seconds


def pg_megabytes(station: Station) -> float:
    with station.engine.connect() as conn:
        size = conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar()
    return round(int(size or 0) / 2**20, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--queries", type=int, default=30, help="Queries per class.")
    parser.add_argument("--scans", type=int, default=8, help="Queries per class also scanned.")
    parser.add_argument("--keep", type=Path, help="Build the archive here and keep it.")
    parser.add_argument("--reuse", type=Path, help="Measure an archive built with --keep.")
    parser.add_argument(
        "--build-seconds", type=float, help="With --reuse: the build time measured earlier."
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both",
        help="Where to time the queries (the archive is built on SQLite either way).",
    )  # fmt: skip
    args = parser.parse_args()
    rng = random.Random(SEED)
    temp = None
    if args.reuse:
        root, built = args.reuse, archive_facts(args.reuse)
        if args.build_seconds is not None:
            built["build_seconds"] = args.build_seconds
    else:
        temp = None if args.keep else Path(tempfile.mkdtemp(prefix="bench-search-"))
        root = args.keep or (temp / "station")  # type: ignore[operator]
        print(f"building {args.episodes} episodes × {args.minutes} min in {root}", file=sys.stderr)
        built = build(root, args.episodes, args.minutes, rng)
    summaries: dict[str, Any] = {}
    measured_all: dict[str, Any] = {}
    server: pg_server.Server | None = None
    try:
        station = open_station(root)
        built["db_mb"] = db_megabytes(root)
        classes = sample_queries(station, args.queries, rng)
        if args.database in ("sqlite", "both"):
            measured_all["sqlite"] = measure(station, classes, args.scans)
        station.engine.dispose()
        if args.database in ("postgresql", "both"):
            started = pg_server.start_server(durable=True)
            if isinstance(started, str):
                print(f"PostgreSQL skipped: {started}", file=sys.stderr)
            else:
                server = started
                pg, url, copy_s = on_postgres(root, server.url)
                built["postgresql"] = {"copy_seconds": round(copy_s, 1), "db_mb": pg_megabytes(pg)}
                measured_all["postgresql"] = measure(pg, classes, args.scans)
                pg.engine.dispose()
                pg_server.drop_database(url)
    finally:
        if server is not None:
            server.stop()
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    table: list[list[Any]] = []
    for database, measured in measured_all.items():
        rows, summaries[database] = summarise(measured, wall=database == "postgresql")
        table += [[database, *row] for row in rows]
    headers = [
        "database", "class", "max share", "list p50 ms cpu/wall", "list p95 ms cpu/wall",
        "scan p50 ms", "min speed-up", "by-ep p95 ms (≤10%)", "by-ep worst ms",
        "rank p95 ms (≤10%)", "rank worst ms", "= scan",
    ]  # fmt: skip
    print()
    print(
        f"Archive: {built.get('episodes', '?')} episodes, {built.get('segments', '?')} segments, "
        f"{built.get('chars', '?')} characters; {built.get('postings', '?')} postings in "
        f"{built.get('posting_rows', '?')} rows, {built.get('bitmap_rows', '?')} segment bitmaps "
        f"({built.get('bitmap_mb', '?')} MB), "
        f"{built.get('tokens', '?')} tokens; build {built.get('build_seconds', '?')} s; "
        f"database {built['db_mb']} MB"
        + (
            f"; on PostgreSQL {built['postgresql']['db_mb']} MB, copied in "
            f"{built['postgresql']['copy_seconds']} s"
            if "postgresql" in built
            else ""
        )
    )
    print()
    print(markdown_table(headers, table))
    print(
        "\nms are CPU time / wall time of the call. SQLite runs in-process, so its CPU time is"
        " the latency on an idle machine; PostgreSQL works in its server process, so its"
        " latency is the wall time (and the CPU column counts only the client's share)."
        " by-episode and rank p95 cover queries matching ≤10% of segments; worst cases show"
        " their share of segments; the speed-up compares CPU (SQLite) or wall (PostgreSQL)."
    )
    targets = {
        "list_p95_ms": TARGET_LIST_P95_MS,
        "speedup": TARGET_SPEEDUP,
        "by_episode_p95_ms": TARGET_BY_EPISODE_P95_MS,
        "rank_p95_ms": TARGET_RANK_P95_MS,
    }
    full = built.get("episodes") == 1000 and built.get("minutes", 60) == 60
    path = write_result(
        "search" if full else f"search-{built.get('episodes')}-episodes",
        {
            "archive": built,
            "targets": targets,
            "databases": summaries,
            "queries": measured_all,
        },
    )
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
