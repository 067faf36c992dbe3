"""``skemotion predict``: apply a saved pipeline to files, folders or a CSV column of paths.

The model is a fitted scikit-learn pipeline written with joblib (``skemotion evaluate
--save``, or ``joblib.dump(pipeline, path)``); the command feeds it the items, and
writes one row per item: the item, the predicted emotion and, where the model has
``predict_proba``, one probability column per emotion.
"""

import argparse
import os
import sys
from pathlib import Path

from .._cache import CacheFileError
from ._common import (
    CacheCounter,
    Clock,
    UsageError,
    add_cache_arguments,
    cache_option,
    check_parquet_writer,
    check_writable,
    encoder_kind,
    id_list,
    item_encoders,
    list_folder_files,
    open_cache,
    read_csv_column,
    resolve_csv_paths,
    run_command,
    write_atomically,
)

OUTPUT_SUFFIXES = (".csv", ".parquet")
# The fix named by every error about MODEL itself.
SAVED_BY = (
    "it must be a fitted pipeline written by 'skemotion evaluate --save MODEL.joblib' "
    "or joblib.dump(fitted_pipeline, path)"
)
TRUST = (
    "A model file is code: loading it (joblib, pickle) runs whatever it holds, with "
    "your permissions. Only load model files you trust: ones you wrote, or got from "
    "someone you trust."
)

DESCRIPTION = f"""\
Predict the emotion of each item with a saved pipeline MODEL, and write one row per
item: 'item' (the path as given), 'emotion' (the predicted label) and, where the
model has predict_proba, one 'proba_<emotion>' column per emotion.

MODEL is a fitted scikit-learn pipeline saved with joblib: 'skemotion evaluate
--save MODEL.joblib', or joblib.dump(pipeline, path) in Python. {TRUST}

Each ITEM is a file, a folder or a CSV file. A folder contributes the files the
model's encoders read (audio: .wav .flac .ogg .oga .opus .mp3 .aif .aiff; images:
.jpg .jpeg .png .bmp .gif .tif .tiff .webp; videos, for both: .mp4 .avi .mov .mkv
.webm .m4v), at any depth, in sorted order. A CSV
needs --column, the column of file paths (relative paths are read from the CSV's
folder), or of texts for a model that reads texts. A model fitted on a DataFrame
gets one, with each column it was fitted on (feature_names_in_) filled with the
items: one video file can feed an audio and a face encoder.

The output (--output) is a .csv or .parquet file; without it, CSV on stdout. An item
that cannot be read stops the command with an error that names it, unless
--on-error skip is given: then its row has no emotion and an 'error' column says
why, and the other items are predicted."""

EPILOG = """\
examples:
  skemotion evaluate ravdess ~/data/ravdess --save ravdess.joblib
  skemotion predict ravdess.joblib clips/ -o predictions.csv
  skemotion predict ravdess.joblib a.wav b.wav            # CSV on stdout
  skemotion predict ravdess.joblib takes.csv --column wav -o predictions.parquet \\
      --on-error skip"""


def add_parser(subparsers):
    """Declare ``skemotion predict`` on `subparsers`; return its parser."""
    parser = subparsers.add_parser(
        "predict",
        help="predict the emotion of files, folders or a CSV column with a saved pipeline",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "model",
        metavar="MODEL",
        help="the saved pipeline (joblib); a model file is code: load only files you trust",
    )
    parser.add_argument(
        "items", metavar="ITEMS", nargs="+", help="files, folders of files, or a CSV file"
    )
    parser.add_argument(
        "--column", metavar="COL", help="the column of file paths (or texts) of a CSV ITEM"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        type=_output_path,
        default=None,
        help="the file to write: .csv or .parquet (default: CSV on stdout)",
    )
    parser.add_argument(
        "--segments",
        action="store_true",
        help="cut each recording (audio or video) into its utterances with Silero VAD "
        "and write one row per utterance, with its start and end in seconds",
    )
    parser.add_argument(
        "--on-error",
        choices=("raise", "skip"),
        default="raise",
        help="raise: stop at an item that cannot be read (default); skip: write its row "
        "without an emotion, with the reason in an 'error' column",
    )
    add_cache_arguments(parser)
    parser.set_defaults(func=run, parser=parser)
    return parser


def run(args):
    """Run ``skemotion predict``; return the exit status (usage errors exit with 2)."""
    return run_command("predict", args, _predict)


def _predict(args):
    clock = Clock()
    output = None if args.output is None else Path(args.output).expanduser()
    if output is not None:  # before the model is loaded and anything predicted
        check_writable(output, "-o/--output")
        if any(Path(given).expanduser().resolve() == output.resolve() for given in args.items):
            raise UsageError(
                f"-o/--output {output} is also an ITEM: writing the predictions would "
                "overwrite it. Pass another output path"
            )
        check_parquet_writer(output, instead="a .csv file")
    model = load_model(args.model)
    kinds = model_kinds(model)
    items = read_items(args, kinds)
    cache = open_cache(cache_option(args))
    for encoder in item_encoders(model):
        encoder.set_params(cache=False if cache is None else cache, verbose=sys.stderr.isatty())
    counter = CacheCounter(cache)
    if args.segments:
        if "text" in kinds:
            raise UsageError("--segments cuts recordings; the model reads texts")
        frame = predict_segments(model, items, on_error=args.on_error)
    else:
        frame = predict_items(model, items, on_error=args.on_error)
    write_predictions(frame, output)
    failed = frame["item"][frame["error"].notna()] if "error" in frame else []
    skipped = (
        f"{len(failed):,} could not be predicted (see the 'error' column: {id_list(failed)}); "
        if len(failed)
        else ""
    )
    where = "stdout" if output is None else output.resolve()
    unit = "segments" if args.segments else "items"
    print(
        f"Predicted {len(frame) - len(failed):,} of {len(frame):,} {unit} with "
        f"{_model_name(model)} in {clock.elapsed():.1f} s; cache: {counter.summary()}; "
        f"{skipped}wrote {where}",
        # On stdout only when the predictions do not go there.
        file=sys.stderr if output is None else sys.stdout,
    )


# --- the model -------------------------------------------------------------------------------


def load_model(path):
    """The fitted estimator with ``predict`` saved at `path`; errors name the file and the fix.

    Loading unpickles the file, which runs the code it holds: the caller must trust it.
    """
    import joblib
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    path = Path(path).expanduser()
    if not path.is_file():
        state = "is a folder" if path.is_dir() else "does not exist"
        raise FileNotFoundError(f"MODEL {path} {state}; {SAVED_BY}")
    try:
        model = joblib.load(path)
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"MODEL {path} needs the module {exc.name!r}, which is not installed here: "
            "install the package it comes from, in the version that saved the model"
        ) from exc
    except Exception as exc:  # unpickling bytes that are not a pickle can raise anything
        raise ValueError(
            f"MODEL {path} is not a joblib file ({type(exc).__name__}: {exc}); {SAVED_BY}"
        ) from exc
    if not hasattr(model, "predict"):
        raise ValueError(
            f"MODEL {path} holds a {type(model).__name__}, not an estimator with "
            f"predict; {SAVED_BY}"
        )
    try:
        check_is_fitted(model)
    except TypeError as exc:  # not a scikit-learn estimator
        raise ValueError(f"MODEL {path} holds a {type(model).__name__}: {exc}; {SAVED_BY}") from exc
    except NotFittedError as exc:
        raise ValueError(
            f"MODEL {path} holds an unfitted {_model_name(model)}; {SAVED_BY}"
        ) from exc
    return model


def model_kinds(model):
    """The kinds of item (``"audio"``, ``"image"``, ``"text"``) the model's encoders read."""
    kinds = {encoder_kind(encoder) for encoder in item_encoders(model)} - {None}
    return sorted(kinds)


def _model_name(model):
    steps = getattr(model, "steps", None)
    if steps:
        return f"{type(model).__name__}({', '.join(type(step).__name__ for _, step in steps)})"
    return type(model).__name__


# --- the items -------------------------------------------------------------------------------


def read_items(args, kinds):
    """The items as a Series: the values to predict from, indexed by the items as given.

    Files are passed as given (``~`` expanded); a folder gives its files of the
    `kinds` the model reads, as ``FOLDER/relative/path``; a CSV gives its
    ``--column``, file paths resolved against the CSV's folder.
    """
    import pandas as pd

    reads_texts = "text" in kinds
    if reads_texts and len(kinds) > 1:
        raise UsageError(
            f"the model reads texts and {' and '.join(k for k in kinds if k != 'text')} "
            "files: skemotion predict feeds the same items to every input, which cannot be "
            "both; predict in Python with a DataFrame of one column per input"
        )
    parts, csv_seen = [], False
    for given in args.items:
        path = Path(given).expanduser()
        if path.is_dir():
            parts.append(_folder_items(given, path, kinds))
        elif path.suffix.lower() == ".csv" and path.is_file():
            csv_seen = True
            cells = read_csv_column(
                path, args.column, paths=False, allow_empty=args.on_error == "skip"
            )
            # Indexed by the item as given: the cell as written in the CSV.
            values = cells if reads_texts else resolve_csv_paths(cells, path)
            parts.append(pd.Series(values.to_numpy(), index=cells.fillna("").to_numpy()))
        elif reads_texts:
            raise UsageError(
                f"the model reads texts: pass a CSV file with --column, the column of "
                f"texts, not {given!r}"
            )
        elif not path.exists():
            raise FileNotFoundError(
                f"ITEM {given} does not exist; pass files, folders of files or a CSV file"
            )
        else:
            parts.append(pd.Series([str(path)], index=[given]))
    if args.column is not None and not csv_seen:
        raise UsageError("--column applies to a CSV ITEM; no ITEM is a .csv file")
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _folder_items(given, folder, kinds):
    import pandas as pd

    if not kinds:
        raise UsageError(
            f"the model has no skemotion encoder, so which files of the folder {given} "
            "it reads is unknown; pass the files themselves"
        )
    if kinds == ["text"]:
        raise UsageError(
            f"the model reads texts: pass a CSV file with --column, the column of texts, "
            f"not the folder {given}"
        )
    files = list_folder_files(folder, kinds)
    return pd.Series(files.to_numpy(), index=[os.path.join(given, rel) for rel in files.index])


# --- predicting ------------------------------------------------------------------------------


def model_input(model, values):
    """What the model is called on: a DataFrame of the columns it was fitted on, each
    filled with `values`, or, for a model fitted on a list or an array, the list."""
    import pandas as pd

    columns = getattr(model, "feature_names_in_", None)
    if columns is None:
        return list(values)
    return pd.DataFrame({column: list(values) for column in columns})


def predict_batch(model, values):
    """Predict `values` in one call: ``(labels, probabilities or None)``.

    This is the one function that applies the model: a prediction per segment of
    each item would replace it. The pipeline's transforms run once, then the final
    step's predict and predict_proba on their output (as ``Pipeline.predict`` does).
    """
    from sklearn.pipeline import Pipeline

    X = model_input(model, values)
    final = model
    if isinstance(model, Pipeline) and len(model) > 1:
        X, final = model[:-1].transform(X), model[-1]
    labels = final.predict(X)
    proba = final.predict_proba(X) if hasattr(final, "predict_proba") else None
    return labels, proba


def predict_items(model, items, *, on_error="raise", predict=predict_batch):
    """The predictions of `items` (a Series of values, indexed by the items as given).

    `predict(model, values)` returns ``(labels, probabilities or None)`` for a batch
    (:func:`predict_batch`). Returns a DataFrame: ``item``, ``emotion``,
    ``proba_<class>`` per class where the model has ``predict_proba``, and with
    ``on_error="skip"`` an ``error`` column (None where the item was predicted).
    """
    import numpy as np
    import pandas as pd

    from .._encoders._items import is_missing

    values = list(items.to_numpy())
    n = len(values)
    empty = {row for row, value in enumerate(values) if is_missing(value)}
    rows = [row for row in range(n) if row not in empty]
    results, errors = {}, dict.fromkeys(empty, "empty cell: no item to read")
    try:
        _predict_rows(model, values, rows, results, errors, predict, skip=on_error == "skip")
    except CacheFileError:
        raise  # the cache's problem, not an item's: skipping items would not help
    except ValueError as exc:
        raise ValueError(
            f"{exc}. Pass --on-error skip to write a row with the error for each item that "
            "cannot be read and predict the others, or fix or remove the item"
        ) from exc
    if not results:
        first = errors[min(errors)]
        raise ValueError(
            f"none of the {n:,} item(s) could be predicted, so nothing is written; the "
            f"first: {first}. Check that the items are what the model reads"
        )
    emotion = np.full(n, None, dtype=object)
    proba = None
    for batch, (batch_labels, batch_proba) in results.items():
        emotion[list(batch)] = batch_labels
        if batch_proba is not None:
            if proba is None:
                proba = np.full((n, batch_proba.shape[1]), np.nan)
            proba[list(batch)] = batch_proba
    frame = pd.DataFrame({"item": [str(item) for item in items.index], "emotion": emotion})
    if proba is not None:
        classes = getattr(model, "classes_", None)
        for k, name in enumerate(range(proba.shape[1]) if classes is None else classes):
            frame[f"proba_{name}"] = proba[:, k]
    if on_error == "skip":
        frame["error"] = [errors.get(row) for row in range(n)]
    return frame


def _predict_rows(model, values, rows, results, errors, predict, *, skip):
    """Predict `rows` in one batch; with `skip`, halve a batch that fails until each
    failing item stands alone, and record its error.

    An item that cannot be read fails the whole batch (the encoders raise a ValueError
    that names it), and which items are bad is known only by trying them. Halving
    finds k bad items among n in about k log2(n) calls, predicts the good ones in
    batches that stay large, and the error recorded for an item is the one it raises
    on its own. Another error (a model that cannot load: OSError, ImportError,
    RuntimeError) is not an item's and stops the command in every case.
    """
    if not rows:
        return
    try:
        results[tuple(rows)] = predict(model, [values[row] for row in rows])
    except ValueError as exc:
        if not skip or isinstance(exc, CacheFileError):
            raise
        if len(rows) == 1:
            errors[rows[0]] = str(exc)
            return
        half = len(rows) // 2
        for part in (rows[:half], rows[half:]):
            _predict_rows(model, values, part, results, errors, predict, skip=skip)


def predict_segments(model, items, *, on_error="raise", segmenter=None):
    """One row per utterance of each recording: ``item``, ``start``, ``end``, then as
    :func:`predict_items` (the emotion, its probabilities, ``error`` with skip).

    Each recording is cut by `segmenter` (``SpeechSegmenter()`` by default) and its
    segments classified by :func:`skemotion.predict_timeline`. A recording that
    cannot be read (with ``on_error="skip"``; otherwise it stops the command, naming
    it), or holds no speech, is one row without an emotion, whose ``error`` says why.
    """
    import warnings

    import pandas as pd

    from .._segmenter import SpeechSegmenter
    from .._timeline import predict_timeline

    segmenter = SpeechSegmenter() if segmenter is None else segmenter
    frames = []
    for given, value in items.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # no speech: said in the row instead
                timeline = predict_timeline(model, value, segmenter=segmenter)
            error = None if len(timeline) else "no speech found: no segment to predict"
        except ValueError as exc:
            if on_error != "skip":
                raise ValueError(
                    f"{given}: {exc}. Pass --on-error skip to write a row with the error "
                    "for each recording that cannot be read, or fix or remove it"
                ) from exc
            timeline, error = pd.DataFrame({"start": [], "end": []}), str(exc)
        if not len(timeline):
            timeline = pd.DataFrame({"start": [float("nan")], "end": [float("nan")]})
        timeline.insert(0, "item", str(given))
        timeline["error"] = error
        frames.append(timeline)
    frame = pd.concat(frames, ignore_index=True)
    columns = ["item", "start", "end", "emotion"]
    rest = [c for c in frame if c not in columns and c != "error"]
    return frame.reindex(columns=columns + rest + ["error"])


# --- the output ------------------------------------------------------------------------------


def write_predictions(frame, path):
    """Write `frame` as CSV to stdout (`path` None), or to a .csv or .parquet file."""
    if path is None:
        frame.to_csv(sys.stdout, index=False)
        return
    if path.suffix.lower() == ".parquet":
        write_atomically(
            path, lambda target: frame.to_parquet(target, index=False, engine="pyarrow")
        )
    else:
        write_atomically(path, lambda target: frame.to_csv(target, index=False))


def _output_path(text):
    if Path(text).suffix.lower() not in OUTPUT_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text!r} must end in .csv or .parquet, which are the formats written"
        )
    return text
