"""The ``skemotion`` command line: ``skemotion demo``, ``encode``, ``evaluate`` and ``predict``.

Each command is a module with ``add_parser(subparsers)``, which declares its arguments
and sets ``func``, the function that runs it and returns the exit code; what the
commands share is in ``_common``. The two demos the ``demo`` command runs are
``demo_text`` and ``demo_face_voice``: printing, command-line programs rather than
library code, so they live here too. The optional dependencies (torch, librosa,
matplotlib, pyarrow) are imported when a command runs, so ``skemotion --help`` answers at
once.
"""

import argparse

from . import demo, encode, evaluate, predict

DESCRIPTION = """\
Multimodal emotion recognition for scikit-learn: frozen pretrained encoders as
transformers, fitted fusion estimators, and an on-disk embedding cache."""

# In the order `skemotion --help` lists them.
COMMANDS = (demo, encode, evaluate, predict)


def main(argv=None):
    """Run the ``skemotion`` command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        The arguments, without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    exit_code : int
        0 on success, 1 when a model, an optional dependency, the data or the cache
        cannot be used. Usage errors exit with status 2 (:class:`SystemExit`).

    Examples
    --------
    >>> from skemotion._cli import build_parser, main
    >>> args = build_parser().parse_args(["demo", "--text", "--n-samples", "400"])
    >>> args.command, args.text, args.n_samples, args.no_cache
    ('demo', True, 400, False)
    >>> main(["demo", "--n-actors", "8"])  # doctest: +SKIP
    0
    """
    args = build_parser().parse_args(argv)
    return args.func(args)


def build_parser():
    """Return the argument parser with one subparser per command."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="skemotion",
        description=DESCRIPTION,
        epilog="Run 'skemotion COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"skemotion {__version__}")
    commands = parser.add_subparsers(
        title="commands", dest="command", metavar="COMMAND", required=True
    )
    for command in COMMANDS:
        command.add_parser(commands)
    return parser
