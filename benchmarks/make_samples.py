"""Build the GoEmotions sample that ships inside skemotion (a maintainer script).

The sample is what ``skemotion demo`` and
:func:`skemotion.datasets.load_goemotions_sample` use: 4,000 real Reddit comments
with one Ekman emotion each, small enough to ship in the wheel and to embed on a
laptop CPU in seconds, and imbalanced the way the real data are.

How it is made
--------------
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

Usage, from the repository root (the defaults rebuild the shipped files)::

    python benchmarks/make_samples.py
    python benchmarks/make_samples.py --source ../shared/data/goemotions --n 4000 --seed 0
"""

import argparse
import csv
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
        path, sep="\t", header=None, names=["text", "labels", "id"],
        dtype=str, na_filter=False, quoting=csv.QUOTE_MINIMAL,
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
        rng.choice(single.index[single["emotion"] == name].to_numpy(), counts[name],
                   replace=False)
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
        n=n, seed=seed, command=COMMAND.format(n=n, seed=seed), rows=rows,
        n_single=len(source_single), sample_name=SAMPLE_NAME, license_name=LICENSE_NAME,
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
    sample.to_csv(out / SAMPLE_NAME, index=False,
                  compression={"method": "gzip", "mtime": 0, "compresslevel": 9})
    shutil.copyfile(Path(source) / "LICENSE", out / LICENSE_NAME)
    (out / "README.md").write_text(readme_text(sample, single, names, n, seed),
                                   encoding="utf-8")
    return sample


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="With no options it rebuilds the files that ship in skemotion/datasets/data.",
    )
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="GoEmotions folder holding ekman/ and LICENSE "
                             "(default: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: %(default)s)")
    parser.add_argument("--n", type=int, default=4000,
                        help="number of comments in the sample (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random draw (default: %(default)s)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    sample = build(args.source, args.out, args.n, args.seed)
    path = args.out / SAMPLE_NAME
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(sample):,} rows)")
    print(sample["emotion"].value_counts().to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
