"""``skemotion demo --text``: text emotion recognition on the bundled GoEmotions sample.

The demo is the package in one screen: frozen sentence embeddings
(:class:`~skemotion.TextEncoder`) feed a class-balanced logistic regression inside a
:class:`~sklearn.pipeline.Pipeline`, :class:`~sklearn.model_selection.GridSearchCV`
tunes it for macro-F1 (the imbalance-aware score), and the embedding cache makes
every comment be embedded once, however many folds and candidates see it.
"""

import sys

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, classification_report, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from .. import TextEncoder
from ..datasets import load_goemotions_sample
from ._common import CacheCounter, Clock, open_cache

RANDOM_STATE = 0
TEST_SIZE = 0.2
C_GRID = [0.1, 1.0, 10.0, 100.0]
MAX_FOLDS = 5
# Below this, the rarest emotion (disgust, 1.25%) has too few comments to be split
# into train and test and then into cross-validation folds.
MIN_SAMPLES = 200
SAMPLE_SIZE = 4000  # comments in the bundled sample: the most --n-samples can ask for


def run_demo(*, n_samples=None, cache=None, model=None):
    """Fit, tune and evaluate the text emotion pipeline on the bundled sample, printing as it goes.

    Parameters
    ----------
    n_samples : int or None, default=None
        Use a stratified subset of this many comments (at least ``MIN_SAMPLES``);
        None uses all 4,000.
    cache : str, path-like, False or None, default=None
        Where embeddings are cached; None means the default folder
        (``$XDG_CACHE_HOME/skemotion``, else ``~/.cache/skemotion``), False turns
        caching off (every fold then embeds its comments again).
    model : str or None, default=None
        Sentence-transformers model name or folder; None is TextEncoder's default.

    Returns
    -------
    search : GridSearchCV
        The fitted search, its ``best_estimator_`` refitted on the training split.
    """
    clock = Clock()
    encoder, cache_handle = make_encoder(model, cache)
    _print_header(encoder.model, cache_handle)
    with clock.stage("Loading the bundled GoEmotions sample"):
        X_train, X_test, y_train, y_test, names = load_data(n_samples)
    n_splits = _n_splits(y_train)
    _print_data(y_train, y_test, names, n_splits)
    counter = CacheCounter(cache_handle)
    with clock.stage(
        f"Fitting the grid search: {len(C_GRID)} values of C x {n_splits} folds, "
        "then a refit; each comment is embedded when first seen"
    ):
        search = build_search(encoder, n_splits).fit(X_train, y_train)
    _print_search(search)
    with clock.stage(f"Evaluating on the {len(y_test):,} held-out comments"):
        y_pred = search.predict(X_test)
    _print_scores(y_test, y_pred, names)
    _print_cache(counter, X_train, X_test)
    print(f"Done in {clock.elapsed():.1f} s.")
    return search


def make_encoder(model=None, cache=None):
    """Return the TextEncoder and the cache handle it uses (None when caching is off).

    The handle is resolved here, not left to the encoder, so that the demo can read
    its hit and miss counters.
    """
    handle = open_cache(cache)
    # A progress bar while embedding helps in a terminal and is noise in a log file.
    encoder = TextEncoder(cache=False if handle is None else handle, verbose=sys.stderr.isatty())
    if model is not None:
        encoder.set_params(model=model)
    return encoder, handle


def load_data(n_samples=None):
    """Load the sample (or a stratified subset) and split it 80/20, stratified.

    Returns
    -------
    X_train, X_test, y_train, y_test : pandas.Series
        Comments and their emotions.
    target_names : list of str
        The 7 emotions, in the dataset's order.
    """
    sample = load_goemotions_sample()
    X, y = sample.data, sample.target
    if n_samples is not None and n_samples < len(X):
        if n_samples < MIN_SAMPLES:
            raise ValueError(
                f"n_samples must be at least {MIN_SAMPLES} so that every emotion has comments "
                f"in each split and fold. Got {n_samples} instead."
            )
        X, _, y, _ = train_test_split(
            X, y, train_size=n_samples, stratify=y, random_state=RANDOM_STATE
        )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=TEST_SIZE, stratify=y, random_state=RANDOM_STATE
    )
    return X_train, X_test, y_train, y_test, sample.target_names


def build_search(encoder, n_splits=MAX_FOLDS):
    """Return the grid search over C of ``Pipeline([encoder, balanced LogisticRegression])``."""
    pipe = Pipeline(
        [
            ("encoder", encoder),
            ("clf", LogisticRegression(class_weight="balanced", max_iter=1000)),
        ]
    )
    cv = StratifiedKFold(n_splits, shuffle=True, random_state=RANDOM_STATE)
    # error_score="raise": a failing fit is a bug to show, not a NaN to average over.
    return GridSearchCV(
        pipe, {"clf__C": C_GRID}, cv=cv, scoring="f1_macro", n_jobs=1, error_score="raise"
    )


def _n_splits(y_train):
    """Use 5 folds, or fewer when the rarest emotion has fewer than 5 training comments."""
    rarest = int(y_train.value_counts().min())
    if rarest < 2:
        raise ValueError(
            f"The rarest emotion has {rarest} training comment(s); cross-validation needs "
            "at least 2. Use more samples."
        )
    return min(MAX_FOLDS, rarest)


def _print_header(model, cache):
    print("skemotion demo --text: emotion recognition from text on a GoEmotions sample")
    print(f"  encoder:    TextEncoder(model={model!r}), frozen sentence embeddings")
    print("  classifier: LogisticRegression(class_weight='balanced'), C tuned by GridSearchCV")
    print(f"  cache:      {cache.path if cache is not None else 'off (--no-cache)'}")
    print()


def _print_data(y_train, y_test, names, n_splits):
    n = len(y_train) + len(y_test)
    print(
        f"  {n:,} Reddit comments, {len(names)} emotions; stratified split "
        f"{len(y_train):,} train / {len(y_test):,} test (random_state={RANDOM_STATE})"
    )
    train, test = y_train.value_counts(), y_test.value_counts()
    print(f"  {'emotion':<10} {'train':>6} {'test':>6}")
    for name in names:
        print(f"  {name:<10} {train.get(name, 0):>6,} {test.get(name, 0):>6,}")
    note = (
        ""
        if n_splits == MAX_FOLDS
        else f" (not {MAX_FOLDS}: the rarest emotion has only {n_splits} training comments)"
    )
    # Macro-F1 weighs every emotion alike, so rare disgust counts as much as joy.
    print(f"  model selection: {n_splits}-fold stratified CV{note}, scoring macro-F1")
    print()


def _print_search(search):
    print(f"  best parameters: {search.best_params_}")
    print(f"  mean CV macro-F1 of the best: {search.best_score_:.3f}")
    print()


def _print_scores(y_test, y_pred, names):
    macro_f1 = f1_score(y_test, y_pred, average="macro")
    print(f"  held-out macro-F1: {macro_f1:.3f}   accuracy: {accuracy_score(y_test, y_pred):.3f}")
    print()
    print(classification_report(y_test, y_pred, labels=names, digits=3, zero_division=0))


def _print_cache(counter, X_train, X_test):
    cache = counter.cache
    if cache is None:
        print("Embedding cache: off (--no-cache): every fit embedded its comments again.")
        return
    hits, misses = counter.counts()
    distinct = len(set(X_train) | set(X_test))
    print(
        f"Embedding cache: {hits:,} hits, {misses:,} misses, {cache.count():,} rows in {cache.path}"
    )
    if misses == 0:
        print("  every embedding came from the cache: no comment was embedded this time")
    elif misses == distinct:
        print(
            f"  each of the {distinct:,} distinct comments was embedded once; "
            "every other lookup was a hit"
        )
