"""The bad-input cases: how each is declared, and how its outcome is judged.

A case is a function that feeds one bad input to the package the way a user would. It
is declared with what the package should do with it:

- ``expect="error"``: refuse it with an exception whose message contains every string
  of ``names`` (the item: a path, a row, a column; and the fix);
- ``expect="fallback"``: go on, with a warning whose message contains every string of
  ``names`` (the documented fallback);
- ``expect="handled"``: go on and give the right result; the case checks the result
  itself and raises :class:`WrongResult` when it is wrong.

The outcome is one of OUTCOMES. "unclear error" is an exception that does not name
what ``names`` asks, or that is raised from inside another library with its own words
(a raw traceback; scikit-learn's input checks excepted, see _SKLEARN_CHECKS); "silent
wrong result" is a bad input accepted without a word, or a wrong result.
"""

import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.utils._param_validation import InvalidParameterError

import skemotion

# Errors raised in these folders are the package's own words (or a case's check).
_OWN_FOLDERS = (str(Path(skemotion.__file__).parent), str(Path(__file__).parent))
# scikit-learn's input checks, which every estimator of the ecosystem raises and
# skemotion's estimators declare (validate_data, feature names, label types): their
# words are the convention users know. They still have to name what `names` asks.
_SKLEARN_CHECKS = tuple(
    str(Path("sklearn", *part.split("/")))
    for part in (
        "utils/validation.py",
        "base.py",
        "utils/multiclass.py",
        "utils/_param_validation.py",
    )
)

OUTCOMES = (
    "clear error",
    "fallback",
    "handled",
    "silent wrong result",
    "unclear error",
    "hang",
    "crash",
)
# The outcomes the issue wants none of.
FAILURES = ("silent wrong result", "unclear error", "hang", "crash")

CASES = {}


class WrongResult(AssertionError):
    """Raised by a case whose input was accepted but whose result is wrong."""


@dataclass
class Case:
    id: str
    area: str
    run: object
    expect: str
    names: tuple = field(default_factory=tuple)
    timeout: float = 120.0


def case(area, expect, *, names=(), timeout=120.0, id=None):
    """Register the decorated function as a case of `area` (see the module docstring)."""
    if expect not in ("error", "fallback", "handled"):
        raise ValueError(f"expect must be 'error', 'fallback' or 'handled', got {expect!r}")
    names = (names,) if isinstance(names, str) else tuple(names)

    def register(function):
        case_id = f"{area}: {id or function.__name__.removeprefix('case_').replace('_', ' ')}"
        if case_id in CASES:
            raise ValueError(f"two cases are called {case_id!r}")
        CASES[case_id] = Case(case_id, area, function, expect, names, timeout)
        return function

    return register


def add(area, name, expect, run, *, names=(), timeout=120.0):
    """Register `run` (a function of no arguments) as the case `name` of `area`."""
    return case(area, expect, names=names, timeout=timeout, id=name)(run)


def judge(entry):
    """Run one case here and return ``(outcome, message)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            entry.run()
        except WrongResult as exc:
            return "silent wrong result", f"wrong result: {exc}"
        except SystemExit as exc:  # argparse usage errors: judged on what they printed
            return _judge_error(entry, CliUsageError(str(exc.code)))
        except BaseException as exc:  # noqa: BLE001 - every error is an outcome
            return _judge_error(entry, exc)
    messages = [str(w.message) for w in caught]
    if entry.expect == "error":
        shown = "; ".join(messages)[:300]
        return "silent wrong result", f"accepted without an error{': ' + shown if shown else ''}"
    if entry.expect == "fallback":
        for message in messages:
            if all(name in message for name in entry.names):
                return "fallback", message[:300]
        return "silent wrong result", (
            f"no warning naming {list(entry.names)}"
            + (f"; got: {messages[:3]}" if messages else "")
        )
    return "handled", (messages[0][:300] if messages else "")


class CliUsageError(Exception):
    """What an argparse usage error printed (captured by the CLI fixtures)."""


class CliFailed(Exception):
    """A command that exited with a non-zero status; the message is what it printed."""


class RawTraceback(Exception):
    """A command that let an exception escape: the user sees a traceback."""


class ProcessCrashed(Exception):
    """A command's process died from a signal (a segmentation fault, an abort)."""


def _judge_error(entry, exc):
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ProcessCrashed):
        return "crash", message[:450]
    if isinstance(exc, RawTraceback):
        return "unclear error", f"traceback: {message[:450]}"
    if entry.expect != "error":
        return "unclear error", _with_origin(message, exc)
    missing = [name for name in entry.names if name not in str(exc)]
    if missing or _raised_by_another_library(exc):
        why = f"does not name {missing}" if missing else "raised by another library"
        return "unclear error", f"{why}: {_with_origin(message, exc)}"
    return "clear error", message[:400]


def _raised_by_another_library(exc):
    """Whether the error was raised outside skemotion and the cases.

    A ``ValueError`` raised by numpy inside skemotion's call is another library's
    words; skemotion's own errors are raised in its own frames. A command's failure is
    re-raised by the CLI fixtures (:class:`CliFailed`) with what it printed.
    """
    if isinstance(exc, InvalidParameterError):
        return False  # scikit-learn's parameter validation, which skemotion declares
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    last = frames[-1].filename
    return not last.startswith(_OWN_FOLDERS) and not last.endswith(_SKLEARN_CHECKS)


def _with_origin(message, exc):
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return (message[:350] + where)[:500]
