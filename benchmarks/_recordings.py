"""Long recordings built from real RAVDESS utterances, with the true bounds of their speech.

Used by benchmarks/bench_segmenter.py and tests/test_segmenter.py (which put this folder
on sys.path). A recording is RAVDESS speech clips (``../shared/data/ravdess_speech``,
16 kHz mono FLAC) end to end, each followed by a gap of 1 to 3 s that is, in turn, pure
digital silence (zeros), white noise or pink noise (1/f power) at a low level (-50 dBFS
RMS by default). Nothing is written to the repository: the samples are built in memory,
or written to a file the caller names (a temporary folder).

The true bounds of an utterance: each RAVDESS clip holds about a second of near silence
(-90 dBFS) before the actor speaks and some after. The speech of a clip is found by
energy: its 20 ms frames (10 ms hop) whose RMS level is within ``SPEECH_DB_BELOW_PEAK`` =
30 dB of the clip's loudest frame are loud; loud frames less than 0.5 s apart form a
group, and groups shorter than 0.25 s (a click at the start of a take, a breath after
the sentence) are dropped; the speech runs from the start of the first group left to the
end of the last. 30 dB below the peak lies well above the clips' floor (their quietest,
"sad" ones peak near -43 dBFS over a floor near -91 dBFS) and below the soft onsets and
endings of the words.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

RATE = 16000
SPEECH_DB_BELOW_PEAK = 30.0
FRAME_SECONDS = 0.02
HOP_SECONDS = 0.01
MERGE_SECONDS = 0.5
MIN_GROUP_SECONDS = 0.25
GAP_KINDS = ("silence", "white", "pink")
RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess_speech"


@dataclass
class Recording:
    """A built recording: its samples, where its utterances are, and its gaps.

    ``utterances`` has a row per clip: ``path``, ``emotion``, ``actor``, ``start`` and
    ``end`` of its speech in the recording (seconds), ``clip_start`` and ``clip_end``
    (where the whole clip, silences included, lies). ``gaps`` has a row per gap
    between clips: ``kind`` (silence, white, pink), ``start``, ``end``.
    """

    samples: np.ndarray
    rate: int
    utterances: pd.DataFrame
    gaps: pd.DataFrame

    @property
    def duration(self):
        return self.samples.size / self.rate


def speech_bounds(samples, rate=RATE, db_below_peak=SPEECH_DB_BELOW_PEAK):
    """(start, end) in seconds of the speech in one clip: the energy rule above."""
    frame, hop = int(FRAME_SECONDS * rate), int(HOP_SECONDS * rate)
    if samples.size < frame:
        raise ValueError(f"a clip of {samples.size} samples is shorter than one frame")
    frames = np.lib.stride_tricks.sliding_window_view(samples, frame)[::hop]
    level = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(level >= level.max() - db_below_peak)
    # Loud frames less than MERGE_SECONDS apart form a group; groups shorter than
    # MIN_GROUP_SECONDS (a click, a breath) are not speech.
    breaks = np.flatnonzero(np.diff(loud) * hop / rate > MERGE_SECONDS)
    groups = [
        (group[0] * hop / rate, (group[-1] * hop + frame) / rate)
        for group in np.split(loud, breaks + 1)
    ]
    kept = [(a, b) for a, b in groups if b - a >= MIN_GROUP_SECONDS] or [
        max(groups, key=lambda g: g[1] - g[0])
    ]
    return kept[0][0], kept[-1][1]


def ravdess_clips(n, *, seed=0, root=RAVDESS):
    """`n` RAVDESS clips, spread over the actors and the emotions (reproducible).

    Returns a DataFrame with ``path`` (absolute), ``emotion`` and ``actor``.
    """
    labels = root / "labels.csv"
    if not labels.exists():
        raise FileNotFoundError(f"RAVDESS speech not found: {labels} (../shared/data/README.md)")
    with labels.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rng = np.random.default_rng(seed)
    rows = [rows[i] for i in rng.permutation(len(rows))]
    # Round-robin over the emotions, then over the actors, so that few clips still vary.
    chosen, used_actors = [], set()
    by_emotion = {}
    for row in rows:
        by_emotion.setdefault(row["emotion"], []).append(row)
    emotions = sorted(by_emotion)
    while len(chosen) < n:
        for emotion in emotions:
            pool = by_emotion[emotion]
            fresh = [r for r in pool if r["actor"] not in used_actors] or pool
            row = fresh[0]
            pool.remove(row)
            chosen.append(row)
            used_actors.add(row["actor"])
            if len(used_actors) == 24:
                used_actors.clear()
            if len(chosen) == n:
                break
    return pd.DataFrame(
        {
            "path": [str(root / r["path"]) for r in chosen],
            "emotion": [r["emotion"] for r in chosen],
            "actor": [r["actor"] for r in chosen],
        }
    )


def noise(kind, n, rng, level_db=-50.0):
    """`n` samples of a gap: zeros, or white or pink noise at `level_db` dBFS RMS."""
    if kind == "silence":
        return np.zeros(n, dtype=np.float32)
    white = rng.standard_normal(n)
    if kind == "pink":
        spectrum = np.fft.rfft(white)
        frequencies = np.fft.rfftfreq(n, 1 / RATE)
        frequencies[0] = frequencies[1] if n > 1 else 1.0
        white = np.fft.irfft(spectrum / np.sqrt(frequencies), n)
    elif kind != "white":
        raise ValueError(f"gap kind {kind!r}: expected one of {GAP_KINDS}")
    white *= 10 ** (level_db / 20) / max(np.sqrt(np.mean(white**2)), 1e-12)
    return white.astype(np.float32)


def _pieces(clips, *, gap_seconds, gap_kinds, noise_db, seed):
    """Yield (samples, utterance row or None, gap row or None) in recording order."""
    import soundfile

    rng = np.random.default_rng(seed)
    position = 0
    for i, clip in enumerate(clips.itertuples(index=False)):
        samples, rate = soundfile.read(clip.path, dtype="float32")
        if rate != RATE or samples.ndim != 1:
            raise ValueError(f"{clip.path}: expected 16 kHz mono (got {rate} Hz, {samples.shape})")
        start, end = speech_bounds(samples)
        offset = position / RATE
        row = {
            "path": clip.path,
            "emotion": clip.emotion,
            "actor": clip.actor,
            "start": offset + start,
            "end": offset + end,
            "clip_start": offset,
            "clip_end": offset + samples.size / RATE,
        }
        yield samples, row, None
        position += samples.size
        kind = gap_kinds[i % len(gap_kinds)]
        n = int(rng.uniform(*gap_seconds) * RATE)
        gap = {"kind": kind, "start": position / RATE, "end": (position + n) / RATE}
        yield noise(kind, n, rng, noise_db), None, gap
        position += n


def build_recording(clips, *, gap_seconds=(1.0, 3.0), gap_kinds=GAP_KINDS, noise_db=-50.0, seed=0):
    """The clips (a :func:`ravdess_clips` frame) end to end with gaps, in memory."""
    samples, utterances, gaps = [], [], []
    for piece, utterance, gap in _pieces(
        clips, gap_seconds=gap_seconds, gap_kinds=gap_kinds, noise_db=noise_db, seed=seed
    ):
        samples.append(piece)
        if utterance:
            utterances.append(utterance)
        if gap:
            gaps.append(gap)
    return Recording(np.concatenate(samples), RATE, pd.DataFrame(utterances), pd.DataFrame(gaps))


def write_recording(
    path,
    clips,
    *,
    minutes=None,
    gap_seconds=(1.0, 3.0),
    gap_kinds=GAP_KINDS,
    noise_db=-50.0,
    seed=0,
):
    """Write the recording to `path` (16-bit WAV) as it is built, block by block.

    With `minutes`, the clips are repeated until the recording is that long (and the
    last piece cut there). Returns (utterances, gaps) as in :class:`Recording`; an
    utterance cut by the end is left out of them.
    """
    import soundfile

    target = None if minutes is None else int(minutes * 60 * RATE)
    utterances, gaps, written = [], [], 0
    repeats = 1 if target is None else 1 + target // (3 * RATE * len(clips))
    clips = pd.concat([clips] * repeats, ignore_index=True)
    with soundfile.SoundFile(path, "w", samplerate=RATE, channels=1, subtype="PCM_16") as out:
        for piece, utterance, gap in _pieces(
            clips, gap_seconds=gap_seconds, gap_kinds=gap_kinds, noise_db=noise_db, seed=seed
        ):
            if target is not None:
                piece = piece[: target - written]
            out.write(piece)
            written += piece.size
            end = written / RATE
            if utterance and utterance["end"] <= end:
                utterances.append(utterance)
            if gap and gap["end"] <= end:
                gaps.append(gap)
            if target is not None and written >= target:
                break
    return pd.DataFrame(utterances), pd.DataFrame(gaps)


def score_segments(found, utterances, gaps=None, *, covered=0.5):
    """How well `found` (start, end rows) recovers the utterances.

    Returns a dict: ``found`` (utterances at least `covered` of whose speech lies in
    found segments), ``n_utterances``, ``boundary_errors`` (for each found utterance,
    the distance in seconds from its true start to the start of the first segment
    that overlaps it, and from its true end to the end of the last), ``split`` (found
    utterances overlapped by more than one segment), ``false_segments`` (segments that
    overlap no utterance's speech) and ``segments_in_gaps`` (segments that lie
    wholly inside a gap).
    """
    starts = found["start"].to_numpy(float)
    ends = found["end"].to_numpy(float)
    n_found, errors, split = 0, [], 0
    for row in utterances.itertuples(index=False):
        overlap = np.clip(np.minimum(ends, row.end) - np.maximum(starts, row.start), 0, None)
        hits = np.flatnonzero(overlap > 0)
        if overlap.sum() < covered * (row.end - row.start) or not hits.size:
            continue
        n_found += 1
        split += hits.size > 1
        errors += [abs(starts[hits[0]] - row.start), abs(ends[hits[-1]] - row.end)]
    on_speech = np.zeros(starts.size, dtype=bool)
    for row in utterances.itertuples(index=False):
        on_speech |= (starts < row.end) & (ends > row.start)
    in_gaps = 0
    if gaps is not None and len(gaps):
        for row in gaps.itertuples(index=False):
            in_gaps += int(np.sum((starts >= row.start) & (ends <= row.end)))
    return {
        "found": n_found,
        "n_utterances": len(utterances),
        "boundary_errors": np.asarray(errors),
        "split": int(split),
        "false_segments": int(np.sum(~on_speech)),
        "segments_in_gaps": in_gaps,
    }
