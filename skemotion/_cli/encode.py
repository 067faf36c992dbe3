"""``skemotion encode``: embed a folder of files, or a CSV column, into .npz or .parquet."""

import argparse
import math
import sys
from pathlib import Path

from .._cache import CacheFileError
from .._optional import import_optional_dependency
from ._common import (  # noqa: F401 (AUDIO_SUFFIXES, IMAGE_SUFFIXES: this command's input)
    AUDIO_SUFFIXES,
    ENCODERS,
    IMAGE_SUFFIXES,
    SUFFIXES,
    CacheCounter,
    Clock,
    UsageError,
    add_cache_arguments,
    build_encoder,
    cache_option,
    check_parquet_writer,
    check_writable,
    id_list,
    int_in,
    list_folder_files,
    non_empty,
    open_cache,
    read_csv_column,
    run_command,
    write_atomically,
)

OUTPUT_SUFFIXES = (".npz", ".parquet")

DESCRIPTION = """\
Embed every item of INPUT with a frozen encoder and write the features to OUTPUT.

INPUT is a folder or a CSV file. A folder contributes its audio files (for the audio
encoders: .wav .flac .ogg .oga .opus .mp3 .aif .aiff) or its images (for image and
face: .jpg .jpeg .png .bmp .gif .tif .tiff .webp), and its videos for both (.mp4 .avi
.mov .mkv .webm .m4v: the audio track, or frames), at any depth, in sorted order;
each item's id is its path relative to the folder. A CSV needs --column, the column
of texts (--encoder text) or of file paths (relative paths are read from the CSV's
folder); each item's id is its row number, or the value of --id-column.

OUTPUT is an .npz file (arrays X: float32 features, ids, feature_names) or a .parquet
file (an 'id' column, then one column per feature; needs pyarrow).

Each item is looked up in the embedding cache first and encoded only when missing
there. With --on-error skip, an item that cannot be read (or an empty CSV cell)
becomes a row of NaN, and the summary names it: no row is dropped, so the output
stays aligned with INPUT.

With --scheduler, the items are encoded on a running Dask cluster (extra dask), in
partitions of several cache chunks (batch size x 8 items), and the output is the same
as without it. The workers must read the files at the same paths, and reach the cache:
a postgresql:// URL, or an SQLite file on a local disk when they run on this machine."""

EPILOG = """\
examples:
  skemotion encode clips/ -o clips.npz --encoder audio-features
  skemotion encode faces/ -o faces.parquet --encoder face --on-error skip
  skemotion encode posts.csv --column text --id-column post_id -o posts.npz --encoder text
  skemotion encode takes.csv --column wav -o wavlm.npz --encoder audio \\
      --model ~/models/wavlm-base-plus --device cuda --batch-size 16
  skemotion encode posts.csv --column text -o posts.npz --encoder text \
      --scheduler tcp://10.0.0.5:8786 --cache postgresql://emb@db-host/embeddings"""


def add_parser(subparsers):
    """Declare ``skemotion encode`` on `subparsers`; return its parser."""
    parser = subparsers.add_parser(
        "encode",
        help="embed a folder of files or a CSV column into an .npz or .parquet file",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("input", metavar="INPUT", help="a folder of files, or a CSV file")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        required=True,
        type=_output_path,
        help="the file to write: .npz or .parquet",
    )
    parser.add_argument(
        "--encoder",
        required=True,
        choices=list(ENCODERS),
        help="text: TextEncoder; image: ImageEncoder (CLIP); face: FaceEncoder; "
        "audio-features: AudioFeatures; audio: AudioEncoder (wav2vec2...)",
    )
    csv = parser.add_argument_group("CSV input")
    csv.add_argument(
        "--column", metavar="COL", help="the column of texts or file paths (required for a CSV)"
    )
    csv.add_argument(
        "--id-column", metavar="COL", help="the column of ids (default: the row number, from 0)"
    )
    model = parser.add_argument_group("encoder options (default: the encoder's own)")
    model.add_argument(
        "--model", metavar="NAME_OR_PATH", help="model name or local folder (text, image, audio)"
    )
    model.add_argument(
        "--pretrained",
        metavar="TAG_OR_FILE",
        help="CLIP weights: an open_clip tag or a checkpoint file (image)",
    )
    model.add_argument(
        "--batch-size", metavar="N", type=int_in(1, 65536), help="items encoded at once"
    )
    model.add_argument(
        "--device", metavar="DEVICE", help="auto, cpu, cuda, cuda:1 or mps (not audio-features)"
    )
    parser.add_argument(
        "--on-error",
        choices=("raise", "skip"),
        default="raise",
        help="raise: stop at an unreadable item or empty cell (default); "
        "skip: write a NaN row for it and name it in the summary",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        type=non_empty,
        help="encode on the Dask cluster of this scheduler (tcp://host:8786; extra dask): "
        "the same output, computed by its workers",
    )
    add_cache_arguments(parser)
    parser.set_defaults(func=run, parser=parser)
    return parser


def run(args):
    """Run ``skemotion encode``; return the exit status (usage errors exit with 2)."""
    return run_command("encode", args, _encode)


def _encode(args):
    clock = Clock()
    output = Path(args.output).expanduser()
    cache = open_cache(cache_option(args))
    encoder = build_encoder(
        args.encoder,
        cache=cache,
        on_error=args.on_error,
        verbose=sys.stderr.isatty() and not args.scheduler,  # workers have no terminal
        missing="nan" if args.on_error == "skip" else "error",
        model=args.model,
        pretrained=args.pretrained,
        batch_size=args.batch_size,
        device=args.device,
    )
    check_writable(output, "-o/--output")
    check_parquet_writer(output, instead="an .npz file")
    items = read_items(args)
    if args.scheduler:
        counter = StoreCounter(cache)
        X, names = encode_on_cluster(args.scheduler, encoder, items)
    else:
        counter = CacheCounter(cache)
        X = _fit_transform(encoder, items, args.on_error)
        names = encoder.get_feature_names_out()
    write_output(output, X, items.index, names)
    skipped = items.index[_nan_rows(X)]
    print(
        f"Encoded {len(X):,} items into {X.shape[1]:,} features with "
        f"{type(encoder).__name__} in {clock.elapsed():.1f} s; "
        f"cache: {counter.summary()}; "
        f"{_skipped_summary(skipped)}wrote {output.resolve()}"
    )


# Wait this long for the scheduler to answer, and for it to have a worker.
SCHEDULER_TIMEOUT_S = 10
# Partitions per worker thread, at most: enough to balance the load between workers.
PARTITIONS_PER_THREAD = 4


def encode_on_cluster(address, encoder, items):
    """Encode `items` (a Series indexed by ids) on the Dask cluster at `address`.

    Returns the features (float32, in the order of `items`) and their names.
    """
    caller = "skemotion encode --scheduler"
    distributed = import_optional_dependency("distributed", extra="dask", caller=caller)
    try:
        import dask.dataframe as dd
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires dask's DataFrame support ({exc}): "
            "pip install 'skemotion[dask,parquet]'"
        ) from exc
    from .._encoders._base import _BATCHES_PER_CHUNK
    from ..parallel import encode_dask

    client = _connect(distributed, address)
    with client:
        n_threads = sum(client.nthreads().values())
        # Each partition holds several of the chunks that the cache stores at once.
        chunk = encoder.batch_size * _BATCHES_PER_CHUNK
        n_partitions = max(1, min(math.ceil(len(items) / chunk), PARTITIONS_PER_THREAD * n_threads))
        frame = dd.from_pandas(items, npartitions=n_partitions, sort=False)
        try:
            features = encode_dask(encoder, frame).compute()
        except distributed.KilledWorker as exc:
            raise RuntimeError(
                f"the Dask workers died while encoding ({exc}); out of memory? Check their "
                "logs, give them more memory or a smaller --batch-size, and run again: "
                "what they stored in the cache is not encoded again."
            ) from exc
    if not features.index.equals(items.index):  # from_pandas keeps the order; never reached
        raise RuntimeError("the Dask cluster returned the rows in another order than INPUT")
    return features.to_numpy(dtype="float32"), features.columns.to_numpy(dtype=object)


def _connect(distributed, address):
    """A client of the scheduler at `address` that has at least one worker."""
    try:
        client = distributed.Client(address, timeout=f"{SCHEDULER_TIMEOUT_S}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at --scheduler {address} ({exc}). Start one "
            f"(dask scheduler), and workers (dask worker {address}), check the address "
            "(tcp://host:8786), or leave out --scheduler to encode in this process."
        ) from exc
    try:
        client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT_S)
    except (TimeoutError, OSError) as exc:
        client.close()
        raise ConnectionError(
            f"the Dask scheduler at --scheduler {address} has no worker after "
            f"{SCHEDULER_TIMEOUT_S} s. Start some (dask worker {address}), or leave out "
            "--scheduler to encode in this process."
        ) from exc
    return client


class StoreCounter:
    """The hits and misses recorded in a cache's store from now on, by every process.

    What a cluster's workers looked up, which this process's handle never sees (a
    store used by others at the same time counts their look-ups too).
    """

    def __init__(self, cache):
        self.cache = cache
        self._before = self._totals()

    def _totals(self):
        if self.cache is None:
            return (0, 0)
        stats = self.cache.stats()
        return stats["hits"], stats["misses"]

    def summary(self):
        """``'12 hits, 3 misses (path)'``, or ``'off'`` without a cache."""
        if self.cache is None:
            return "off"
        (hits, misses), (hits_before, misses_before) = self._totals(), self._before
        return f"{hits - hits_before:,} hits, {misses - misses_before:,} misses ({self.cache.path})"


def read_items(args):
    """The items to encode, as a Series indexed by their ids."""
    path = Path(args.input).expanduser()
    if path.is_dir():
        for flag, value in (("--column", args.column), ("--id-column", args.id_column)):
            if value is not None:
                raise UsageError(f"{flag} applies to a CSV input; {path} is a folder")
        return list_folder(path, args.encoder)
    if path.suffix.lower() == ".csv" and path.is_file():
        return _read_csv(path, args)
    state = "is not a folder or a .csv file" if path.exists() else "does not exist"
    raise FileNotFoundError(f"INPUT {path} {state}; pass a folder of files or a CSV file")


def list_folder(folder, encoder):
    """The files under `folder` that `encoder` reads, sorted, ids relative to `folder`."""
    kind = ENCODERS[encoder][1]
    if kind not in SUFFIXES:
        raise UsageError(
            f"--encoder {encoder} reads a CSV column of texts (--column); "
            f"a folder input needs one of {', '.join(_file_encoders())}"
        )
    return list_folder_files(folder, [kind]).rename(kind)


def _read_csv(path, args):
    return read_csv_column(
        path,
        args.column,
        id_column=args.id_column,
        paths=ENCODERS[args.encoder][1] != "text",
        allow_empty=args.on_error == "skip",
    )


def _fit_transform(encoder, items, on_error):
    """The rows of `items`; an item that cannot be read names --on-error skip as the way on."""
    try:
        return encoder.fit_transform(items)
    except CacheFileError:
        raise  # the cache's problem: skipping items would not help
    except ValueError as exc:
        if on_error == "skip":
            raise
        raise ValueError(
            f"{exc}. Pass --on-error skip to write a NaN row for each item that cannot be "
            "read and encode the others, or fix or remove the item"
        ) from exc


def write_output(path, X, ids, feature_names):
    """Write .npz (X, ids, feature_names) or .parquet (an ``id`` column, then the features)."""
    import numpy as np
    import pandas as pd

    ids = np.asarray(ids)
    if ids.dtype == object:
        ids = ids.astype(str)
    if path.suffix.lower() == ".npz":

        def write(target):
            with open(target, "wb") as handle:  # a path would get ".npz" added to ".NPZ"
                names = np.asarray(feature_names, dtype=str)
                np.savez(handle, X=X, ids=ids, feature_names=names)

    else:
        frame = pd.DataFrame(X, columns=list(feature_names))
        frame.insert(0, "id", ids)

        def write(target):
            frame.to_parquet(target, index=False, engine="pyarrow")

    write_atomically(path, write)


def _output_path(text):
    if Path(text).suffix.lower() not in OUTPUT_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text!r} must end in .npz or .parquet, which are the formats written"
        )
    return text


def _nan_rows(X):
    import numpy as np

    return np.isnan(X).all(axis=1)


def _skipped_summary(skipped):
    if not len(skipped):
        return ""
    return f"{len(skipped):,} skipped, written as NaN rows (ids {id_list(skipped)}); "


def _file_encoders():
    return [name for name, (_, kind) in ENCODERS.items() if kind in SUFFIXES]
