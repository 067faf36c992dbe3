"""``skemotion evaluate``: cross-validate an encoder + classifier pipeline on a dataset.

It loads a dataset with its loader, builds one pipeline (an encoder per modality, then a
standardised logistic regression; :class:`~skemotion.LateFusionClassifier` over the
modalities when there are several), collects out-of-fold predictions with
speaker-independent folds where the dataset has speakers, and prints the metrics of
:func:`~skemotion.emotion_report`, pooled and per fold, with each emotion's recall;
the one-vs-rest macro ROC-AUC too when the pipeline has ``predict_proba``.
The datasets, their loaders and splits come from the registry of
:mod:`skemotion.datasets`.
"""

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path

from .._targets import plain
from ..datasets import get_dataset_info, get_loader, list_datasets
from ._common import (
    ENCODERS,
    CacheCounter,
    Clock,
    UsageError,
    add_cache_arguments,
    build_encoder,
    cache_option,
    check_writable,
    int_in,
    item_encoders,
    n_jobs,
    open_cache,
    run_command,
)

# The encoder of each modality column when --encoder does not name one. A video column
# is encoded only when named (--encoder video=face reads its frames, video=audio-features
# its audio track): the datasets that have one have its audio as a column of its own.
DEFAULT_ENCODERS = {"audio": "audio-features", "text": "text", "image": "face"}
# The kinds of item (ENCODERS) each modality column can be read as.
READS = {"audio": {"audio"}, "text": {"text"}, "image": {"image"}, "video": {"image", "audio"}}
METRICS = {
    "accuracy": "accuracy",
    "macro_f1": "macro-F1",
    "weighted_f1": "weighted-F1",
    "uar": "UAR",
    "roc_auc": "ROC-AUC",
}
RANDOM_STATE = 0
# emotion_report's warning of labels without a true sample, once per fold.
_ABSENT_LABELS = "emotion_report: roc_auc is averaged over"

DESCRIPTION = """\
Cross-validate an emotion classifier on DATASET, read from PATH by its loader
(skemotion.datasets.load_<DATASET>), and print its scores.

The pipeline encodes each modality column with a frozen encoder (by default audio:
audio-features, text: text, image: face; --encoder MODALITY=NAME chooses, and then
only the modalities named are used), then fits StandardScaler + LogisticRegression;
with several modalities, LateFusionClassifier fits one per modality and multiplies
their probabilities (its product rule). A video column (RAVDESS, CREMA-D, MELD where
their videos are present) is encoded only when named: --encoder video=face reads its
frames (FaceEncoder at 2 frames/s, pooled), video=audio-features its audio track.

Where the dataset has speakers (RAVDESS, EmoDB, TESS, CREMA-D: actors or speakers;
MELD: dialogues), the folds are StratifiedGroupKFold by that group, so no speaker is
in both the training and the test part of a fold; otherwise (GoEmotions, FER-2013)
shuffled StratifiedKFold. The report gives accuracy, macro-F1, weighted-F1, UAR
(unweighted average recall) and ROC-AUC (one-vs-rest, macro: how well the
probabilities rank each emotion's items above the others) of the out-of-fold
predictions pooled, their mean and standard deviation over the folds (a fold whose
test part holds a single emotion has no ROC-AUC, and is left out of its mean), and
each emotion's recall.

--save MODEL.joblib then fits the same pipeline on all the items loaded and writes it
with joblib, for `skemotion predict MODEL ITEMS...` or `joblib.load(MODEL)` in
Python. A model file is code: loading it runs what it holds, so share and load only
model files you trust.

MELD, GoEmotions and FER-2013 are distributed in splits: --split picks the one to
load and cross-validate (MELD, GoEmotions: train, dev or test; default train.
FER-2013: all, train, test, public_test or private_test; default all)."""

EPILOG = """\
examples:
  skemotion evaluate ravdess ~/data/ravdess --class-weight balanced
  skemotion evaluate ravdess ~/data/ravdess --n-samples 300 --folds 3   # a quick run
  skemotion evaluate meld ~/data/MELD --split dev --output meld_dev.json
  skemotion evaluate ravdess ~/data/ravdess --save ravdess.joblib   # then: skemotion predict
  skemotion evaluate goemotions ~/data/goemotions --n-samples 2000
  skemotion evaluate fer2013 ~/data/fer2013 --split test --encoder image=face
  skemotion evaluate emodb ~/data/emodb --encoder audio=audio:~/models/wavlm-base-plus"""


def add_parser(subparsers):
    """Declare ``skemotion evaluate`` on `subparsers`; return its parser."""
    parser = subparsers.add_parser(
        "evaluate",
        help="cross-validate an encoder + classifier pipeline on a dataset and print its scores",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    datasets = list_datasets()
    parser.add_argument(
        "dataset", metavar="DATASET", choices=datasets, help=f"the dataset: {', '.join(datasets)}"
    )
    parser.add_argument("path", metavar="PATH", help="the dataset's folder (or file)")
    parser.add_argument(
        "--encoder",
        metavar="MODALITY=NAME[:MODEL]",
        action="append",
        type=_encoder_spec,
        default=None,
        help=f"the encoder of a modality column; NAME is one of "
        f"{', '.join(ENCODERS)}, MODEL a model name or folder. "
        "Repeat for several modalities",
    )
    parser.add_argument(
        "--folds",
        metavar="K",
        type=int_in(2, 100),
        default=5,
        help="number of cross-validation folds (default: 5)",
    )
    parser.add_argument(
        "--class-weight",
        choices=["balanced"],
        default=None,
        help="weigh classes inversely to their frequency in each fit",
    )
    parser.add_argument(
        "--split",
        metavar="SPLIT",
        help="which split to load: MELD and GoEmotions (train, dev, test), "
        "FER-2013 (all, train, test, public_test, private_test)",
    )
    parser.add_argument(
        "--n-samples",
        metavar="N",
        type=int_in(2, 10**9),
        default=None,
        help="cross-validate a stratified random subset of N items, for a quick run (default: all)",
    )
    parser.add_argument(
        "--n-jobs",
        metavar="N",
        type=n_jobs,
        default=None,
        help="folds fitted in parallel (default: 1; -1: all cores)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE.json",
        default=None,
        help="also write the scores, per fold and per emotion, as JSON",
    )
    parser.add_argument(
        "--save",
        metavar="MODEL.joblib",
        default=None,
        help="then fit the pipeline on all the items loaded and write it with joblib, "
        "for 'skemotion predict' (a model file is code: load only files you trust)",
    )
    add_cache_arguments(parser)
    parser.set_defaults(func=run, parser=parser)
    return parser


def run(args):
    """Run ``skemotion evaluate``; return the exit status (usage errors exit with 2)."""
    return run_command("evaluate", args, _evaluate)


def _evaluate(args):
    clock = Clock()
    setup = prepare(args)
    _print_header(args, setup)
    counter = CacheCounter(setup.cache)
    X, y, groups = setup.X, setup.y, setup.groups
    y_pred, y_proba, classes = out_of_fold(setup.pipeline, X, y, groups, setup.cv, args.n_jobs)
    tests = [test for _, test in setup.cv.split(X, y, groups)]
    results = score(y, y_pred, tests, setup.labels, y_proba=y_proba, classes=classes)
    results.update(
        dataset=args.dataset,
        path=str(Path(args.path).expanduser().resolve()),
        loader_kwargs=setup.loader_kwargs,
        encoders=setup.chosen,
        cv=setup.cv_text,
        class_weight=args.class_weight,
        seconds=round(clock.elapsed(), 1),
    )
    print_results(results)
    if args.save is not None:
        results["model"] = str(save_model(setup, args.save))
    if args.n_jobs in (None, 1):  # workers' lookups are counted in the workers
        print(f"Cache: {counter.summary()}")
    if args.output is not None:
        _write_json(args.output, results)
    print(f"Done in {results['seconds']:.1f} s.")


def prepare(args):
    """Load the data and build the pipeline and the folds; usage errors come first."""
    from sklearn.utils import Bunch

    for flag, path in (("--output", args.output), ("--save", args.save)):
        if path is not None:  # before the cross-validation, not after it
            check_writable(path, flag)
    loader_kwargs = split_kwargs(args.dataset, args.split)
    chosen = choose_encoders(args.encoder)
    data = load_dataset(args.dataset, args.path, loader_kwargs, args.n_samples)
    chosen = check_modalities(args.dataset, chosen, data.frame)
    cache = open_cache(cache_option(args))
    pipeline = build_pipeline(chosen, cache=cache, class_weight=args.class_weight)
    cv, groups, cv_text = make_cv(data.frame, args.folds, args.dataset)
    return Bunch(
        loader_kwargs=loader_kwargs,
        frame=data.frame,
        labels=data.labels,
        chosen=chosen,
        X=data.frame[list(chosen)],
        y=data.frame["emotion"].to_numpy(),
        groups=groups,
        cache=cache,
        pipeline=pipeline,
        cv=cv,
        cv_text=cv_text,
    )


# --- the data ------------------------------------------------------------------------------


def split_kwargs(dataset, split):
    """The loader keyword that ``--split`` sets (``{}`` without it)."""
    if split is None:
        return {}
    info = get_dataset_info(dataset)
    if info.split_parameter is None:
        in_splits = [name for name in list_datasets() if get_dataset_info(name).splits]
        raise UsageError(
            f"--split applies to {', '.join(in_splits)}; {dataset} is not distributed in splits"
        )
    if split not in info.splits:
        raise UsageError(f"--split {split!r}: {dataset} has the splits {', '.join(info.splits)}")
    return {info.split_parameter: split}


def load_dataset(dataset, path, loader_kwargs, n_samples=None):
    """A Bunch: the dataset's ``frame`` (or a stratified subset of `n_samples` rows),
    and its ``labels`` in the dataset's order."""
    from sklearn.model_selection import train_test_split
    from sklearn.utils import Bunch

    bunch = get_loader(dataset)(path, **loader_kwargs)
    frame = bunch.frame
    if n_samples is not None and n_samples < len(frame):
        frame, _ = train_test_split(
            frame, train_size=n_samples, stratify=frame["emotion"], random_state=RANDOM_STATE
        )
        frame = frame.sort_index().reset_index(drop=True)
    labels = [label for label in bunch.target_names if label in set(frame["emotion"])]
    return Bunch(frame=frame, labels=labels)


def choose_encoders(specs):
    """``{modality: (encoder name, model)}`` from the ``--encoder`` options (None: defaults)."""
    if not specs:
        return None
    chosen = {}
    for modality, name, model in specs:
        if modality in chosen:
            raise UsageError(f"--encoder names the {modality} modality twice")
        if modality not in READS:
            raise UsageError(
                f"--encoder {modality}={name}: {modality!r} is not a modality "
                f"column of the datasets; they are {', '.join(READS)}"
            )
        if ENCODERS[name][1] not in READS[modality]:
            fits = [n for n, (_, kind) in ENCODERS.items() if kind in READS[modality]]
            raise UsageError(
                f"--encoder {modality}={name}: the {name} encoder reads "
                f"{ENCODERS[name][1]}, not {modality}; use {' or '.join(fits)}"
            )
        chosen[modality] = (name, model)
    return chosen


def check_modalities(dataset, chosen, frame):
    """Check the chosen modalities against the frame's columns; default to what it has."""
    columns = modality_columns(frame)
    if chosen is None:
        chosen = {c: (DEFAULT_ENCODERS[c], None) for c in columns if c in DEFAULT_ENCODERS}
        if not chosen:
            raise ValueError(
                f"{dataset}: no modality to encode by default (columns {columns}); "
                "name one with --encoder, e.g. --encoder video=face"
            )
        return chosen
    lacking = [modality for modality in chosen if modality not in columns]
    if lacking:
        raise UsageError(
            f"{dataset} has no {' or '.join(lacking)} column; its modalities "
            f"are {', '.join(columns)}"
        )
    return chosen


def modality_columns(frame):
    return [c for c in ("audio", "text", "image", "video") if c in frame]


# --- the model -----------------------------------------------------------------------------


def build_pipeline(chosen, *, cache=None, class_weight=None):
    """Encoder(s), then StandardScaler + LogisticRegression; late fusion for several."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from .. import LateFusionClassifier, make_multimodal_pipeline

    several = len(chosen) > 1
    # With several modalities, a missing item is a missing modality that fusion handles.
    encoders = {
        modality: build_encoder(
            name,
            cache=cache,
            model=model,
            verbose=sys.stderr.isatty(),
            missing="nan" if several else "error",
        )
        for modality, (name, model) in chosen.items()
    }
    classifier = (StandardScaler(), LogisticRegression(class_weight=class_weight, max_iter=1000))
    if not several:
        return make_pipeline(*encoders.values(), *classifier)
    fusion = LateFusionClassifier(make_pipeline(*classifier))
    return make_multimodal_pipeline(encoders, fusion=fusion)


def save_model(setup, path):
    """Fit the pipeline on all of `setup`'s items and write it to `path`; return the path.

    What is written is the fitted pipeline itself, nothing wrapped around it: fitted
    on the DataFrame of modality columns, it knows them (``feature_names_in_``) and the
    emotions (``classes_``), which is what ``skemotion predict`` and
    ``joblib.load(path).predict(X)`` need. Its encoders are left without a cache and
    a progress bar of their own (``cache=None``: the ``set_config`` cache of the
    session that loads it), so that the file does not point into this machine's
    cache folder; ``skemotion predict`` sets its ``--cache``.
    """
    import joblib

    path = Path(path).expanduser()
    print(f"Fitting the pipeline on all {len(setup.y):,} items ...", flush=True)
    model = setup.pipeline.fit(setup.X, setup.y)
    for encoder in item_encoders(model):
        encoder.set_params(cache=None, verbose=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    print(f"Saved the fitted pipeline to {path.resolve()} (skemotion predict {path} ITEMS...)")
    return path.resolve()


def make_cv(frame, folds, dataset):
    """The splitter, the groups to pass (or None) and a sentence that says which it is."""
    from sklearn.model_selection import StratifiedKFold

    from .. import check_cv_groups, speaker_cv

    info = get_dataset_info(dataset)
    if info.group_column is not None:
        groups = frame[info.group_column].to_numpy()
        n_groups = len(set(groups))
        if folds > n_groups:
            raise UsageError(
                f"--folds {folds}: the data has {n_groups} {info.group_noun}, and each "
                f"fold needs its own; pass --folds {n_groups} or fewer"
            )
        cv = check_cv_groups(speaker_cv(folds), groups, y=frame["emotion"])
        return (
            cv,
            groups,
            (
                f"StratifiedGroupKFold({folds}) by {info.group_noun} "
                f"({len(set(groups)):,}): none is in both training and test"
            ),
        )
    smallest = frame["emotion"].value_counts().min()
    if folds > smallest:
        raise UsageError(
            f"--folds {folds}: the rarest emotion has {smallest} item(s), and stratified "
            f"folds need one per fold; pass --folds {max(smallest, 2)} or fewer"
        )
    cv = StratifiedKFold(folds, shuffle=True, random_state=RANDOM_STATE)
    return (
        cv,
        None,
        (
            f"StratifiedKFold({folds}, shuffle=True, random_state={RANDOM_STATE}): "
            f"{dataset} has no speaker or subject ids to keep apart"
        ),
    )


# --- the scores ----------------------------------------------------------------------------


def out_of_fold(pipeline, X, y, groups, cv, n_jobs):
    """Out-of-fold labels, probabilities (None without ``predict_proba``) and their classes.

    With ``predict_proba``, one cross-validation gives both: the label is the most
    probable class, which is what the pipeline's ``predict`` returns for its fusion and
    logistic regression. The columns are in the order of the sorted labels of `y`
    (``cross_val_predict``'s; a class absent from a fold's training part gets 0).
    """
    import numpy as np
    from sklearn.model_selection import cross_val_predict

    if not hasattr(pipeline, "predict_proba"):
        y_pred = cross_val_predict(pipeline, X, y, groups=groups, cv=cv, n_jobs=n_jobs)
        return y_pred, None, None
    y_proba = cross_val_predict(
        pipeline, X, y, groups=groups, cv=cv, n_jobs=n_jobs, method="predict_proba"
    )
    classes = np.unique(y)
    return classes[np.argmax(y_proba, axis=1)], y_proba, classes


def score(y, y_pred, tests, labels, *, y_proba=None, classes=None):
    """Pooled and per-fold :func:`emotion_report`, their mean and sd, per-emotion recall.

    With `y_proba` (columns in the order of `classes`) the reports have ``roc_auc``. A
    fold whose test part holds a single emotion has no ROC-AUC: NaN, with a warning
    naming the fold, left out of the mean and sd. The emotions missing from some test
    parts, left out of those folds' ROC-AUC, are named in one warning for all folds.
    """
    import numpy as np
    from sklearn.metrics import recall_score

    from .. import emotion_report

    folds, lacking = [], {}
    for number, test in enumerate(tests, 1):
        if y_proba is None:
            folds.append(emotion_report(y[test], y_pred[test]))
            continue
        present = set(y[test].tolist())
        if len(present) < 2:
            folds.append(_without_roc_auc(emotion_report(y[test], y_pred[test])))
            warnings.warn(
                f"fold {number} of {len(tests)}: its test part holds only "
                f"{next(iter(present), None)!r} ({len(test)} items), so its ROC-AUC is "
                "undefined: NaN, left out of the mean and sd over the folds. Fewer --folds "
                "give each test part more emotions.",
                UserWarning,
                stacklevel=2,
            )
            continue
        with warnings.catch_warnings():  # said once for all folds, below
            warnings.filterwarnings("ignore", message=_ABSENT_LABELS, category=UserWarning)
            report = emotion_report(y[test], y_pred[test], y_proba=y_proba[test], labels=classes)
        folds.append(report)
        absent = [plain(label) for label in classes if plain(label) not in present]
        if absent:
            lacking[number] = absent
    if lacking:
        shown = "; ".join(
            f"fold {number}: {', '.join(map(repr, absent))}" for number, absent in lacking.items()
        )
        warnings.warn(
            f"ROC-AUC per fold is averaged over the emotions of the fold's test part; "
            f"{len(lacking)} of {len(tests)} test parts lack some ({shown}), whose "
            "one-vs-rest ROC-AUC is undefined there and left out. The pooled ROC-AUC has "
            "them all.",
            UserWarning,
            stacklevel=2,
        )
    labels_of_proba = None if y_proba is None else classes
    pooled = emotion_report(y, y_pred, y_proba=y_proba, labels=labels_of_proba)
    keys = [key for key in METRICS if key in pooled]
    recall = recall_score(y, y_pred, labels=labels, average=None, zero_division=0)
    counts = dict(zip(*np.unique(y, return_counts=True), strict=True))
    with warnings.catch_warnings():  # a metric NaN in every fold: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = {key: float(np.nanmean([f[key] for f in folds])) for key in keys}
        sd = {key: float(np.nanstd([f[key] for f in folds], ddof=1)) for key in keys}
    return {
        "n_samples": len(y),
        "pooled": pooled,
        "folds": folds,
        "mean": mean,
        "sd": sd,
        "recall": {
            label: {"recall": float(r), "n": int(counts[label])}
            for label, r in zip(labels, recall, strict=True)
        },
    }


def _without_roc_auc(report):
    """`report` with ``roc_auc`` NaN, in its place before ``n_samples``."""
    n_samples = report.pop("n_samples")
    return {**report, "roc_auc": float("nan"), "n_samples": n_samples}


def print_results(results):
    n_folds = len(results["folds"])
    print(f"{'':<13}{'pooled':>7}   per fold (mean ± sd over {n_folds})")
    for key, label in METRICS.items():
        if key not in results["pooled"]:  # ROC-AUC: only from probabilities
            continue
        print(
            f"{label:<13}{results['pooled'][key]:>7.3f}   "
            f"{results['mean'][key]:.3f} ± {results['sd'][key]:.3f}"
        )
    print()
    print("Recall per emotion (pooled):")
    width = max(map(len, results["recall"]))
    for label, row in results["recall"].items():
        print(f"  {label:<{width}} {row['recall']:.3f}  (n={row['n']:,})")


def _print_header(args, setup):
    frame, chosen = setup.frame, setup.chosen
    print(
        f"skemotion evaluate {args.dataset}: {len(frame):,} items, "
        f"{frame['emotion'].nunique()} emotions"
    )
    for modality, (name, model) in chosen.items():
        detail = f" ({model})" if model else ""
        print(f"  {modality}: {ENCODERS[name][0]}{detail}")
    for modality in modality_columns(frame):
        if modality not in chosen:
            why = (
                "encoded only when named: --encoder video=face"
                if modality == "video"
                else "not chosen by --encoder"
            )
            print(f"  {modality}: not used ({why})")
    fusion = "LateFusionClassifier over " if len(chosen) > 1 else ""
    print(
        f"  classifier: {fusion}StandardScaler + LogisticRegression"
        f"(class_weight={args.class_weight!r})"
    )
    print(f"  folds: {setup.cv_text}")
    print(flush=True)


def _write_json(path, results):
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_json_safe(results), indent=2) + "\n")
    print(f"Wrote {path.resolve()}")


def _json_safe(value):
    """`value` with NaN as None (JSON's null: NaN is no JSON), through dicts and lists."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _encoder_spec(text):
    """Parse ``MODALITY=NAME[:MODEL]`` into ``(modality, name, model or None)``."""
    modality, equals, rest = text.partition("=")
    name, _, model = rest.partition(":")
    if not equals or not modality:
        raise argparse.ArgumentTypeError(
            f"expected MODALITY=NAME (e.g. audio=audio-features), got {text!r}"
        )
    if name not in ENCODERS:
        raise argparse.ArgumentTypeError(
            f"unknown encoder {name!r} in {text!r}; choose from {', '.join(ENCODERS)}"
        )
    return modality, name, (os.path.expanduser(model) if model else None)
