"""Build the data samples that ship inside skemotion (a maintainer script).

Two samples, each small enough to ship in the wheel and real:

- GoEmotions (:func:`build`): what ``skemotion demo --text`` and
  :func:`skemotion.datasets.load_goemotions_sample` use: 4,000 real Reddit comments
  with one Ekman emotion each, small enough to embed on a laptop CPU in seconds, and
  imbalanced the way the real data are.
- RAVDESS (:func:`build_ravdess`): what ``skemotion demo`` and
  ``skemotion.datasets.load_ravdess_sample`` use: 192 speech clips (one per emotion
  per actor, 24 actors) as 16 kHz FLAC, with the facial action units of the same takes.

How the GoEmotions sample is made
---------------------------------
1. Read the Ekman version of GoEmotions' *train* split (TSV, no header:
   ``text<TAB>comma-separated label ids<TAB>comment id``; ids index ``labels.txt``).
2. Keep the rows with exactly one label (multi-label rows have no single answer).
3. Give each class ``n * share`` rows, rounded with the largest-remainder method so
   the counts add up to ``n`` and every class is within one row of its natural share.
4. Draw that many rows from each class, without replacement, with one
   ``numpy.random.default_rng(seed)`` visiting the classes in ``labels.txt`` order.
5. Write the chosen rows in their source-file order as ``text, emotion, id``
   (gzip with a fixed timestamp, so the same inputs give the same bytes), copy the
   licence, and write ``README.md`` with the counts.

How the RAVDESS sample is made
------------------------------
1. Read ``ravdess_speech/labels.csv`` (1,440 speech clips of 24 actors, 16 kHz mono
   FLAC) and the facial action units (``au_*`` columns) of the same takes from
   ``ravdess_av_features/features.csv``, joined on ``av_key``.
2. For each actor and each emotion (actors in order, emotions in RAVDESS code order),
   draw ``--clips-per-emotion`` of that actor's takes of that emotion without
   replacement, with one ``numpy.random.default_rng(seed)`` (neutral has 4 takes per
   actor, every other emotion 8: 2 intensities x 2 statements x 2 repetitions).
3. Copy the chosen FLAC files byte for byte (no re-encoding, no trimming), write
   ``clips.csv`` (``path, emotion, actor, gender, intensity, statement, repetition,
   av_key, au_00 ... au_34``, the AU values as the source text), the licence notice
   and ``README.md`` with the counts and the size, and ``SHA256SUMS`` of the clips.

Usage, from the repository root (the defaults rebuild the shipped files)::

    python benchmarks/make_samples.py
    python benchmarks/make_samples.py --dataset goemotions --n 4000 --seed 0
    python benchmarks/make_samples.py --dataset ravdess --clips-per-emotion 1 --seed 0
"""

import argparse
import csv
import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "goemotions"
DEFAULT_OUT = REPO / "skemotion" / "datasets" / "data"
SAMPLE_NAME = "goemotions_ekman_sample.csv.gz"
LICENSE_NAME = "LICENSE-goemotions"
COMMAND = "python benchmarks/make_samples.py --n {n} --seed {seed}"

RAVDESS_SOURCE = REPO.parent / "shared" / "data"
RAVDESS_OUT = DEFAULT_OUT / "ravdess_sample"
RAVDESS_TABLE = "clips.csv"
RAVDESS_COMMAND = (
    "python benchmarks/make_samples.py --dataset ravdess --clips-per-emotion {k} --seed {seed}"
)
# RAVDESS emotion codes 01-08, in code order.
RAVDESS_EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
RAVDESS_COLUMNS = [
    "path",
    "emotion",
    "actor",
    "gender",
    "intensity",
    "statement",
    "repetition",
    "av_key",
]
# What may ship: the wheel should stay small (the budget for this sample).
RAVDESS_MAX_BYTES = 10 * 1000 * 1000


def read_ekman_split(source, split="train"):
    """Read one split of GoEmotions-Ekman as a DataFrame with columns text, labels, id.

    Parameters
    ----------
    source : path-like
        The ``goemotions`` folder (it holds ``ekman/`` and ``LICENSE``).
    split : {"train", "dev", "test"}, default="train"
        Which split to read.

    Returns
    -------
    frame : pandas.DataFrame
        ``labels`` is the raw comma-separated string of label ids.
    """
    path = Path(source) / "ekman" / f"{split}.tsv"
    if not path.is_file():
        raise FileNotFoundError(
            f"GoEmotions split file {str(path)!r} not found: pass --source, the folder that "
            "holds ekman/train.tsv (in this project: ../shared/data/goemotions)."
        )
    # The files use CSV quoting (a text with a quote is wrapped in "..." with "" inside),
    # so pandas' default QUOTE_MINIMAL is right; na_filter=False keeps comments such
    # as "NA" or "null" as text.
    return pd.read_csv(
        path,
        sep="\t",
        header=None,
        names=["text", "labels", "id"],
        dtype=str,
        na_filter=False,
        quoting=csv.QUOTE_MINIMAL,
    )


def read_label_names(source):
    """Return the 7 Ekman class names in ``labels.txt`` order (index = label id)."""
    path = Path(source) / "ekman" / "labels.txt"
    return path.read_text(encoding="utf-8").split()


def single_label_rows(frame, names):
    """Keep rows with exactly one label and add its name as the ``emotion`` column."""
    single = frame[~frame["labels"].str.contains(",")].copy()
    single["emotion"] = [names[int(i)] for i in single["labels"]]
    return single


def proportional_counts(class_sizes, n):
    """Split `n` across classes in proportion to `class_sizes` (largest-remainder method).

    Examples
    --------
    >>> proportional_counts(pd.Series({"a": 90, "b": 9, "c": 1}), 10).to_dict()
    {'a': 9, 'b': 1, 'c': 0}
    """
    if not 0 < n <= class_sizes.sum():
        raise ValueError(f"--n must be in [1, {class_sizes.sum()}]. Got {n} instead.")
    exact = class_sizes / class_sizes.sum() * n
    counts = np.floor(exact).astype(int)
    # Hand the rows lost to flooring to the classes with the largest remainders;
    # a stable sort breaks ties by class order, so the result is deterministic.
    remainders = (exact - counts).sort_values(ascending=False, kind="stable")
    counts[remainders.index[: n - counts.sum()]] += 1
    return counts


def stratified_sample(single, names, n, seed):
    """Draw `n` rows keeping each class's share; return them in source-file order."""
    sizes = single["emotion"].value_counts().reindex(names, fill_value=0)
    counts = proportional_counts(sizes, n)
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(single.index[single["emotion"] == name].to_numpy(), counts[name], replace=False)
        for name in names
    ]
    return single.loc[np.sort(np.concatenate(chosen)), ["text", "emotion", "id"]]


def readme_text(sample, source_single, names, n, seed):
    """Return the README.md that documents the sample's provenance and counts."""
    counts = sample["emotion"].value_counts()
    source_counts = source_single["emotion"].value_counts()
    rows = "\n".join(
        f"| {name} | {counts.get(name, 0):,} | {counts.get(name, 0) / len(sample):.1%} "
        f"| {source_counts.get(name, 0):,} |"
        for name in names
    )
    return README_TEMPLATE.format(
        n=n,
        seed=seed,
        command=COMMAND.format(n=n, seed=seed),
        rows=rows,
        n_single=len(source_single),
        sample_name=SAMPLE_NAME,
        license_name=LICENSE_NAME,
    )


README_TEMPLATE = """\
# Bundled data

This file is written by `benchmarks/make_samples.py`; edit the template there, not here.

## `{sample_name}`: GoEmotions, Ekman classes, {n:,}-comment sample

{n:,} English Reddit comments, each labelled with one of Ekman's six basic emotions or
neutral. Columns: `text` (the comment; names of people are masked as `[NAME]` upstream),
`emotion` (the label name), `id` (the Reddit comment id). `skemotion demo` and
`skemotion.datasets.load_goemotions_sample()` read it.

**Source.** GoEmotions, Ekman taxonomy (the 27 emotions mapped to anger, disgust, fear,
joy, neutral, sadness, surprise), *train* split:

> Dorottya Demszky, Dana Movshovitz-Attias, Jeongwoo Ko, Alan Cowen, Gaurav Nemade and
> Sujith Ravi. 2020. GoEmotions: A Dataset of Fine-Grained Emotions. In *Proceedings of
> the 58th Annual Meeting of the Association for Computational Linguistics (ACL)*,
> pages 4040-4054. https://arxiv.org/abs/2005.00547

**Licence.** Apache License 2.0; the full text is `{license_name}` in this folder. The
sample is a subset of the original rows, unchanged except that the label ids are replaced
by their names.

**How it was made.** From the repository root, with the GoEmotions folder at
`../shared/data/goemotions`:

    {command}

1. take the {n_single:,} train rows that carry exactly one label (multi-label rows dropped);
2. give each class its natural share of {n:,} rows (largest-remainder rounding);
3. draw that many rows per class without replacement with `numpy.random.default_rng({seed})`;
4. keep the chosen rows in source-file order.

The rare classes stay rare on purpose: the demo is about learning under class imbalance
(macro-F1, `class_weight="balanced"`).

| emotion | sample | share | single-label train rows |
|---|---:|---:|---:|
{rows}
"""


def build(source, out, n, seed):
    """Write the sample, the licence copy and the README into `out`; return the sample."""
    names = read_label_names(source)
    single = single_label_rows(read_ekman_split(source, "train"), names)
    sample = stratified_sample(single, names, n, seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the gzip header, and so the file's bytes, identical between runs.
    sample.to_csv(
        out / SAMPLE_NAME,
        index=False,
        compression={"method": "gzip", "mtime": 0, "compresslevel": 9},
    )
    shutil.copyfile(Path(source) / "LICENSE", out / LICENSE_NAME)
    (out / "README.md").write_text(readme_text(sample, single, names, n, seed), encoding="utf-8")
    return sample


def read_ravdess(source):
    """Read the RAVDESS speech clips with the facial action units of the same takes.

    Parameters
    ----------
    source : path-like
        The folder holding ``ravdess_speech/`` and ``ravdess_av_features/`` (in this
        project: ../shared/data).

    Returns
    -------
    clips : pandas.DataFrame
        One row per clip, columns ``RAVDESS_COLUMNS`` then ``au_00`` ... ``au_34``, every
        value as the source text (so the AU values are copied exactly).
    """
    source = Path(source)
    labels_path = source / "ravdess_speech" / "labels.csv"
    features_path = source / "ravdess_av_features" / "features.csv"
    for path in (labels_path, features_path):
        if not path.is_file():
            raise FileNotFoundError(
                f"RAVDESS file {str(path)!r} not found: pass --ravdess-source, the folder "
                "that holds ravdess_speech/ and ravdess_av_features/ (in this project: "
                "../shared/data)."
            )
    labels = pd.read_csv(labels_path, dtype=str, na_filter=False)
    features = pd.read_csv(features_path, dtype=str, na_filter=False)
    au = [column for column in features if column.startswith("au_")]
    clips = labels.merge(
        features[["key", "emotion", "audio_file", *au]],
        left_on="av_key",
        right_on="key",
        how="left",
        suffixes=("", "_features"),
        validate="one_to_one",
    )
    # The two files describe the same takes: check the join rather than trust it.
    broken = (
        clips["key"].isna()
        | (clips["emotion"] != clips["emotion_features"])
        | (clips["path"] != clips["audio_file"])
    )
    if broken.any():
        raise ValueError(
            f"{int(broken.sum())} clips of {labels_path} do not match their av_key row in "
            f"{features_path}, e.g. {clips.loc[broken, 'path'].iloc[0]!r}."
        )
    return clips[RAVDESS_COLUMNS + au]


def per_actor_emotion_sample(clips, k, seed):
    """Draw `k` clips per (actor, emotion); return them sorted by actor, then file name."""
    if k < 1:
        raise ValueError(f"--clips-per-emotion must be at least 1. Got {k} instead.")
    rng = np.random.default_rng(seed)
    chosen = []
    for actor in sorted(clips["actor"].unique()):
        for emotion in RAVDESS_EMOTIONS:
            takes = clips.index[(clips["actor"] == actor) & (clips["emotion"] == emotion)]
            if len(takes) < k:
                raise ValueError(
                    f"actor {actor} has {len(takes)} {emotion} clips; --clips-per-emotion "
                    f"{k} asks for more."
                )
            chosen.append(rng.choice(takes.to_numpy(), k, replace=False))
    sample = clips.loc[np.concatenate(chosen)]
    return sample.sort_values(["actor", "path"]).reset_index(drop=True)


def ravdess_readme_text(sample, clips, k, seed, sizes):
    """Return the README.md of the RAVDESS sample: provenance, counts, size, checksums."""
    counts = sample["emotion"].value_counts()
    source_counts = clips["emotion"].value_counts()
    rows = "\n".join(
        f"| {name} | {counts.get(name, 0)} | {source_counts.get(name, 0)} |"
        for name in RAVDESS_EMOTIONS
    )
    intensity = sample["intensity"].value_counts()
    statement = sample["statement"].value_counts()
    return RAVDESS_README_TEMPLATE.format(
        n=len(sample),
        k=k,
        seed=seed,
        command=RAVDESS_COMMAND.format(k=k, seed=seed),
        n_actors=sample["actor"].nunique(),
        n_source=len(clips),
        rows=rows,
        n_au=sum(c.startswith("au_") for c in sample),
        table=RAVDESS_TABLE,
        audio_mb=sizes["audio"] / 1e6,
        total_mb=sizes["total"] / 1e6,
        normal=intensity.get("normal", 0),
        strong=intensity.get("strong", 0),
        statement1=statement.get("01", 0),
        statement2=statement.get("02", 0),
    )


RAVDESS_NOTICE = """\
RAVDESS sample bundled with skemotion (skemotion/datasets/data/ravdess_sample/)
==============================================================================

The audio files (*.flac) and the facial action-unit values in clips.csv in this folder
are a subset of, and derived from, the Ryerson Audio-Visual Database of Emotional
Speech and Song (RAVDESS) by Steven R. Livingstone and Frank A. Russo, licensed under
the Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International licence
(CC BY-NC-SA 4.0): https://creativecommons.org/licenses/by-nc-sa/4.0/
(legal code: https://creativecommons.org/licenses/by-nc-sa/4.0/legalcode).

They remain under CC BY-NC-SA 4.0, not under skemotion's BSD-3-Clause licence: they
may not be used for commercial purposes, and adaptations must be shared under the same
licence, with credit to the authors as below.

Source: RAVDESS, https://zenodo.org/record/1188976 (DOI 10.5281/zenodo.1188976).

Changes made: the speech clips were resampled from 48 kHz WAV to 16 kHz mono FLAC
(sox) and {n} of the {n_source:,} speech clips were selected ({k} per emotion per
actor, see README.md); the facial action units are OpenFace clip means computed from the
audio-visual recordings of the same takes. No other change: the FLAC files are
copied byte for byte.

Citation:

  Livingstone SR, Russo FA (2018) The Ryerson Audio-Visual Database of Emotional
  Speech and Song (RAVDESS): A dynamic, multimodal set of facial and vocal
  expressions in North American English. PLoS ONE 13(5): e0196391.
  https://doi.org/10.1371/journal.pone.0196391
"""


RAVDESS_README_TEMPLATE = """\
# RAVDESS sample: {n} speech clips with facial action units

This file is written by `benchmarks/make_samples.py`; edit the template there, not here.

{n} real speech clips of the RAVDESS, {k} per emotion per actor for all {n_actors} actors
(12 female, 12 male), 8 emotions, with the facial action units of the same takes: an
aligned face + voice set. `skemotion demo` and
`skemotion.datasets.load_ravdess_sample()` read it.

- `*.flac`: the clips, 16 kHz mono 16-bit FLAC, named as in RAVDESS
  (`03-01-EE-II-SS-RR-AA.flac`: emotion, intensity, statement, repetition, actor).
- `{table}`: one row per clip: `path` (the file name here), `emotion`, `actor` (01-24,
  odd = male), `gender`, `intensity` (normal or strong), `statement` (01 "Kids are
  talking by the door", 02 "Dogs are sitting by the door"), `repetition`, `av_key` (the
  take's key in the source feature table) and the {n_au} facial action-unit values
  `au_00` ... `au_34` (OpenFace clip means of 17 AU intensities and 18 AU presences,
  computed from the audio-visual recording of the same take).
- `LICENSE`: the licence notice and citation; `SHA256SUMS`: checksums of the clips.

Size: {audio_mb:.2f} MB of audio, {total_mb:.2f} MB with the table and text files.

**Source.** The 16 kHz FLAC copy of RAVDESS speech (all 24 actors, all 1,440 clips,
resampled with sox from the 48 kHz originals) and the action-unit table of the
audio-visual recordings in the project's `../shared/data` (`ravdess_speech/`,
`ravdess_av_features/`):

> Livingstone SR, Russo FA (2018) The Ryerson Audio-Visual Database of Emotional Speech
> and Song (RAVDESS): A dynamic, multimodal set of facial and vocal expressions in North
> American English. *PLoS ONE* 13(5): e0196391.
> https://doi.org/10.1371/journal.pone.0196391

**Licence.** Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International
(CC BY-NC-SA 4.0; https://creativecommons.org/licenses/by-nc-sa/4.0/). These files stay
under that licence, not skemotion's BSD-3-Clause: non-commercial use only, adaptations
shared alike, credit as above. See `LICENSE` in this folder.

**How it was made.** From the repository root, with the data at `../shared/data`:

    {command}

1. join the {n_source:,} clips of `ravdess_speech/labels.csv` to their action units in
   `ravdess_av_features/features.csv` on `av_key` (every clip has one row there, and
   their emotion and file agree);
2. for each actor (01 to 24) and each emotion (in code order: neutral, calm, happy, sad,
   angry, fearful, disgust, surprised), draw {k} of that actor's clips of that emotion
   without replacement with one `numpy.random.default_rng({seed})`;
3. copy the chosen FLAC files byte for byte (no re-encoding, no trimming) and write the
   rows, sorted by actor and file name, with the source's text for every value.

Why one clip per emotion per actor: two would be 384 clips, about 14 MB, over the 10 MB
budget for data in the wheel; trimming the silence before and after the speech (about
1 s a clip) saves little, since FLAC already codes near-silence in few bytes (384
trimmed clips were still about 12 MB), and it would change the audio. Keeping every
actor keeps speaker-independent evaluation meaningful (folds by actor).

The draw mixes intensities ({normal} normal, {strong} strong) and statements
({statement1} of statement 01, {statement2} of statement 02) as chance gives. Neutral has
no strong intensity in RAVDESS, and only 4 takes per actor.

| emotion | sample | source clips |
|---|---:|---:|
{rows}

`SHA256SUMS` lists the SHA-256 of every audio file, equal to the source file's (check
with `sha256sum -c SHA256SUMS` in this folder).
"""


def build_ravdess(source, out, k, seed):
    """Write the RAVDESS sample, its notice and README into `out`; return the sample.

    Files in `out` from an earlier build that the new draw no longer holds are removed.
    """
    source = Path(source)
    clips = read_ravdess(source)
    sample = per_actor_emotion_sample(clips, k, seed)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.flac"):
        stale.unlink()
    sha256 = []
    for relative in sample["path"]:
        target = out / Path(relative).name
        shutil.copyfile(source / "ravdess_speech" / relative, target)
        sha256.append((target.name, hashlib.sha256(target.read_bytes()).hexdigest()))
    table = sample.assign(path=[Path(p).name for p in sample["path"]])
    table.to_csv(out / RAVDESS_TABLE, index=False, lineterminator="\n")
    sums = "".join(f"{digest}  {name}\n" for name, digest in sha256)
    (out / "SHA256SUMS").write_text(sums, encoding="utf-8")
    notice = RAVDESS_NOTICE.format(n=len(table), n_source=len(clips), k=k)
    (out / "LICENSE").write_text(notice, encoding="utf-8")
    audio = sum((out / name).stat().st_size for name, _ in sha256)
    sizes = {"audio": audio}
    # The README's own size is part of the total: write it twice, the second time
    # with the final figure (its length does not change between the two).
    for _ in range(2):
        sizes["total"] = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
        (out / "README.md").write_text(
            ravdess_readme_text(table, clips, k, seed, sizes), encoding="utf-8"
        )
    if sizes["total"] > RAVDESS_MAX_BYTES:
        raise ValueError(
            f"the RAVDESS sample is {sizes['total'] / 1e6:.1f} MB, over the "
            f"{RAVDESS_MAX_BYTES / 1e6:.0f} MB budget: use fewer --clips-per-emotion."
        )
    return table


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="With no options it rebuilds the files that ship in skemotion/datasets/data.",
    )
    parser.add_argument(
        "--dataset",
        choices=["all", "goemotions", "ravdess"],
        default="all",
        help="which sample to build (default: %(default)s)",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="GoEmotions folder holding ekman/ and LICENSE (default: %(default)s)",
    )
    parser.add_argument(
        "--ravdess-source",
        type=Path,
        default=RAVDESS_SOURCE,
        help="folder holding ravdess_speech/ and ravdess_av_features/ (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="output folder; the RAVDESS sample goes to its ravdess_sample/ (default: %(default)s)",
    )
    parser.add_argument(
        "--n",
        type=int,
        default=4000,
        help="number of comments in the GoEmotions sample (default: %(default)s)",
    )
    parser.add_argument(
        "--clips-per-emotion",
        type=int,
        default=1,
        help="RAVDESS clips per emotion per actor (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random draws (default: %(default)s)"
    )
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.dataset in ("all", "goemotions"):
        sample = build(args.source, args.out, args.n, args.seed)
        path = args.out / SAMPLE_NAME
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(sample):,} rows)")
        print(sample["emotion"].value_counts().to_string())
    if args.dataset in ("all", "ravdess"):
        out = args.out / RAVDESS_OUT.name
        sample = build_ravdess(args.ravdess_source, out, args.clips_per_emotion, args.seed)
        size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
        print(
            f"wrote {out}/ ({size / 1e6:.2f} MB, {len(sample):,} clips of "
            f"{sample['actor'].nunique()} actors)"
        )
        print(sample["emotion"].value_counts().to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
