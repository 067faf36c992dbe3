"""Shared helpers of the benchmark scripts: data location, machine description, output."""

import json
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
RESULTS = BENCHMARKS / "results"
SHARED_DATA = BENCHMARKS.parent.parent / "shared" / "data"


def shared_data(*parts):
    """Path into ../shared/data, or exit with a clear message when it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        sys.exit(f"benchmark data not found: {path} (see ../shared/data/README.md)")
    return path


def machine():
    """What produced a figure: CPU, cores, Python, torch and the device used."""
    info = {
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name()
    except ImportError:
        pass
    return info


def _cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(func):
    """``(seconds, result)`` of calling `func` once."""
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def write_results(name, command, rows, notes=()):
    """Write `rows` (a list of dicts) as benchmarks/results/<name>.md and .json."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info = machine()
    payload = {"command": command, "date": stamp, "machine": info, "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    header = list(rows[0])
    lines = [
        f"# {name}",
        "",
        f"Command: `{command}`  ",
        f"Date: {stamp}  ",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(str(row[key]) for key in header) + " |" for row in rows]
    lines += [""] + [f"- {note}" for note in notes]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten: {RESULTS / (name + '.md')}")


def librosa_statistics(y, sr):
    """The hand-written librosa baseline: 20 MFCC + deltas, chroma, spectral contrast,
    centroid, bandwidth, rolloff, flatness, ZCR and RMS with librosa's default frames;
    mean and std of the 65 rows over every frame (130 numbers)."""
    import librosa
    import numpy as np

    S = np.abs(librosa.stft(y))
    mfcc = librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20)
    frames = np.vstack(
        [
            mfcc,
            librosa.feature.delta(mfcc),
            librosa.feature.chroma_stft(S=S**2, sr=sr),
            librosa.feature.spectral_contrast(S=S, sr=sr),
            librosa.feature.spectral_centroid(S=S, sr=sr),
            librosa.feature.spectral_bandwidth(S=S, sr=sr),
            librosa.feature.spectral_rolloff(S=S, sr=sr),
            librosa.feature.spectral_flatness(S=S),
            librosa.feature.zero_crossing_rate(y),
            librosa.feature.rms(S=S),
        ]
    )
    return np.concatenate([frames.mean(axis=1), frames.std(axis=1)])


def stored_features(func, paths, stored):
    """``func(path)`` of every path, in 2 processes, kept in the .npy file `stored`.

    Returns (features, seconds taken; 0.0 when they came from the file).
    """
    import time

    import numpy as np
    from joblib import Parallel, delayed

    stored = Path(stored)
    if stored.exists():
        return np.load(stored), 0.0
    start = time.perf_counter()
    X = np.array(Parallel(n_jobs=2)(delayed(func)(path) for path in paths))
    np.save(stored, X)
    return X, time.perf_counter() - start


def postgres_schema(url):
    """A new schema in the PostgreSQL database at `url`, and the URL of a cache in it."""
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in url else "?"
    return schema, f"{url}{separator}options={quote(f'-csearch_path={schema}')}"


def drop_schema(url, schema):
    """Drop a schema that :func:`postgres_schema` made, with its tables."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
