"""``skemotion demo``: emotion recognition from face and voice on the bundled RAVDESS sample.

The package in one screen, multimodal: :class:`~skemotion.AudioFeatures` analyses the
raw speech clips, the facial action units of the same takes pass through as given,
:func:`~skemotion.make_multimodal_pipeline` joins them, a
:class:`~skemotion.LateFusionClassifier` fits one logistic regression per modality and
:class:`~sklearn.model_selection.GridSearchCV` tunes how much each modality weighs. Every
split is by actor (speaker-independent), the embedding cache analyses each clip once
however many folds and candidates see it, and two figures show the result.
"""

import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._audio import AudioFeatures
from ._cache import EmbeddingCache, resolve_cache
from ._demo import _Clock, default_cache_dir
from ._metrics import emotion_report
from ._model_selection import check_cv_groups, speaker_cv
from ._pipeline import make_multimodal_pipeline
from .datasets._ravdess_sample import load_ravdess_sample
from .fusion import LateFusionClassifier, weight_grid

MODALITIES = ("face", "audio")
WEIGHT_STEP = 0.1
OUTER_FOLDS = 5
INNER_FOLDS = 4
# One regularisation for both modalities, not tuned: the project's fusion benchmark's.
C = 0.1
SCORING = "f1_macro"  # macro-F1: every emotion counts alike
N_ACTORS = 24  # actors in the bundled sample: the most --n-actors can ask for
# With fewer actors the outer folds' training parts hold too few actors to be split
# into INNER_FOLDS folds by actor.
MIN_ACTORS = 6
DEFAULT_OUTPUT_DIR = "skemotion-demo-output"
CONFUSION_FILE = "confusion_matrix.png"
WEIGHTS_FILE = "modality_weights.png"


def run_demo(*, n_actors=None, cache=None, output_dir=None):
    """Tune and evaluate face + voice late fusion on the bundled RAVDESS sample, printing.

    Parameters
    ----------
    n_actors : int or None, default=None
        Use the clips of the first `n_actors` actors only (at least ``MIN_ACTORS``),
        for a quick run; None uses all 24.
    cache : str, path-like, False or None, default=None
        Where the audio features are cached; None means the text demo's default
        folder (:func:`skemotion._demo.default_cache_dir`), False a temporary cache
        deleted at the end (without any cache, each of the ~280 fits would analyse
        the clips again).
    output_dir : str, path-like or None, default=None
        Folder for the figures; None is ``skemotion-demo-output`` in the current directory.

    Returns
    -------
    result : dict
        ``scores`` (``{"face only": report, "audio only": ..., "fused": ...}``, each an
        :func:`~skemotion.emotion_report` dict), ``fold_weights`` (the weights chosen in
        each outer fold), ``search`` (the final GridSearchCV fitted on the whole
        sample) and ``figures`` (paths of the PNG files written; empty without
        matplotlib).
    """
    clock = _Clock()
    output_dir = Path(DEFAULT_OUTPUT_DIR if output_dir is None else output_dir).resolve()
    plots_error = _plots_available()
    with ExitStack() as stack:
        handle = _cache_handle(cache, stack)
        _print_header(handle, cache is False, output_dir, plots_error)
        with clock.stage("Loading the bundled RAVDESS sample"):
            sample = load_data(n_actors)
        X, y, groups = sample.data, sample.target.to_numpy(), sample.groups
        _print_data(sample)
        # One BLAS thread: on a shared or small machine, BLAS threads spinning against
        # each other made logistic regression 20-50x slower (benchmarks/bench_fusion.py).
        stack.enter_context(_one_blas_thread())
        counters = (handle.hits, handle.misses)
        encoder = AudioFeatures(cache=handle, verbose=sys.stderr.isatty())
        with clock.stage(f"Analysing the {len(X)} clips with AudioFeatures, into the cache "
                         "(every fit below reads them from there)"):
            n_features = clone(encoder).fit_transform(X["audio"]).shape[1]
        print(f"  {n_features} acoustic features per clip; "
              f"{len(sample.feature_names['face'])} facial action units per clip")
        print()
        # The fusion step's memory: each modality's classifier is fitted once per fold,
        # not once per weighting (the weights do not change it).
        fits = stack.enter_context(tempfile.TemporaryDirectory(prefix="skemotion-demo-fits-"))
        pipe = build_pipeline(encoder, sample.feature_names["face"], memory=fits)
        n_candidates = len(weight_grid(MODALITIES, step=WEIGHT_STEP))
        outer = check_cv_groups(speaker_cv(OUTER_FOLDS), groups, y=y)
        with clock.stage(f"Nested cross-validation: {OUTER_FOLDS} outer folds by actor; in "
                         f"each, GridSearchCV fits {n_candidates} weightings x "
                         f"{INNER_FOLDS} inner folds by actor, then a refit"):
            predictions, fold_weights = nested_predictions(pipe, X, y, groups, outer)
        scores = {name: emotion_report(y, pred) for name, pred in predictions.items()}
        _print_scores(scores, len(y))
        with clock.stage(f"Final GridSearchCV on all {len(y)} clips: {n_candidates} "
                         f"weightings x {OUTER_FOLDS} folds by actor, then a refit"):
            search = build_search(pipe, OUTER_FOLDS).fit(X, y, groups=groups)
        _print_weights(fold_weights, search)
        figures = []
        if plots_error is None:
            with clock.stage("Drawing the figures"):
                figures = save_figures(y, predictions["fused"], sample.target_names, search,
                                       output_dir)
            for path, what in figures:
                print(f"  {path}  ({what})")
        else:
            print(f"Figures: skipped ({plots_error})")
        print()
        _print_cache(handle, counters, len(X), cache is False)
    print(f"Done in {clock.elapsed():.1f} s.")
    return {"scores": scores, "fold_weights": fold_weights, "search": search,
            "figures": [path for path, _ in figures]}


def load_data(n_actors=None):
    """Load the sample, or the clips of its first `n_actors` actors."""
    sample = load_ravdess_sample()
    if n_actors is None or n_actors >= N_ACTORS:
        return sample
    if n_actors < MIN_ACTORS:
        raise ValueError(
            f"n_actors must be at least {MIN_ACTORS}, so that every outer fold's training "
            f"part can be split into {INNER_FOLDS} folds by actor. Got {n_actors} instead."
        )
    actors = sorted(set(sample.groups))[:n_actors]
    keep = np.isin(sample.groups, actors)
    sample.frame = sample.frame[keep].reset_index(drop=True)
    sample.data = sample.data[keep].reset_index(drop=True)
    sample.target = sample.target[keep].reset_index(drop=True)
    sample.groups = sample.groups[keep]
    return sample


def build_pipeline(encoder, face_columns, memory=None):
    """Face action units passed through + AudioFeatures on the clips -> late fusion."""
    classifier = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    return make_multimodal_pipeline(
        {"face": ("passthrough", list(face_columns)), "audio": (encoder, "audio")},
        fusion=LateFusionClassifier(classifier, memory=memory),
    )


def build_search(pipe, n_splits):
    """GridSearchCV over the modality weights, folds by actor (pass ``groups`` to fit)."""
    # error_score="raise": a failing fit is a bug to show, not a NaN to average over.
    return GridSearchCV(
        pipe, {"fusion__weights": weight_grid(MODALITIES, step=WEIGHT_STEP)},
        cv=speaker_cv(n_splits), scoring=SCORING, n_jobs=1, error_score="raise",
    )


def nested_predictions(pipe, X, y, groups, outer):
    """Out-of-fold predictions of the tuned fusion and of each modality alone.

    In each outer fold a grid search (inner folds by actor, on the training part only)
    chooses the weights and refits; its per-modality classifiers, the very models the
    fusion combines, give the single-modality predictions. ``GridSearchCV`` inside
    ``cross_val_predict`` would not pass ``groups`` to the inner folds, hence the loop.

    Returns
    -------
    predictions : dict of str to ndarray
        ``"face only"``, ``"audio only"`` and ``"fused"``.
    fold_weights : list of dict
        The weights chosen in each outer fold.
    """
    predictions = {f"{m} only": np.empty_like(y) for m in MODALITIES}
    predictions["fused"] = np.empty_like(y)
    fold_weights = []
    for k, (train, test) in enumerate(outer.split(X, y, groups)):
        began = time.perf_counter()
        search = build_search(pipe, INNER_FOLDS)
        search.fit(X.iloc[train], y[train], groups=groups[train])
        best = search.best_estimator_
        predictions["fused"][test] = best.predict(X.iloc[test])
        fusion = best.named_steps["fusion"]
        per_modality = fusion.predict_proba_per_modality(best[:-1].transform(X.iloc[test]))
        for modality, proba in per_modality.items():
            predictions[f"{modality} only"][test] = fusion.classes_[np.argmax(proba, axis=1)]
        weights = search.best_params_["fusion__weights"]
        fold_weights.append(weights)
        actors = ", ".join(str(a) for a in sorted(set(groups[test])))
        accuracy = np.mean(predictions["fused"][test] == y[test])
        print(f"  fold {k + 1}: test actors {actors}; chosen {_weights_text(weights)}; "
              f"fused accuracy {accuracy:.3f} ({time.perf_counter() - began:.1f} s)",
              flush=True)
    return predictions, fold_weights


def save_figures(y, y_pred, labels, search, output_dir):
    """Write the confusion matrix and the weights plot; return [(path, description)]."""
    from matplotlib.figure import Figure

    from .plots import ConfusionMatrixDisplay, ModalityWeightsDisplay

    output_dir.mkdir(parents=True, exist_ok=True)
    # matplotlib.figure.Figure, not pyplot: no GUI backend, no global figure state.
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(y, y_pred, labels=labels, ax=fig.subplots())
    fig.suptitle("Late fusion (face + voice), out-of-fold predictions, folds by actor\n"
                 "rows normalised: the diagonal is each emotion's recall")
    confusion = output_dir / CONFUSION_FILE
    fig.savefig(confusion, dpi=110)

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ModalityWeightsDisplay.from_cv_results(search, ax=fig.subplots())
    fig.suptitle(f"Modality weights: GridSearchCV, {OUTER_FOLDS} folds by actor "
                 f"({len(y)} clips)\nface weight 1 = face only, 0 = audio only")
    weights = output_dir / WEIGHTS_FILE
    fig.savefig(weights, dpi=110)
    return [
        (confusion, "confusion matrix of the fused out-of-fold predictions"),
        (weights, "mean CV macro-F1 against the face weight, final search"),
    ]


def _plots_available():
    """None when matplotlib imports, else why the figures will be skipped."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "matplotlib is not installed: pip install 'skemotion[plot]'"
    return None


def _cache_handle(cache, stack):
    """The cache to use; False gives a temporary one, closed and deleted by `stack`."""
    if cache is False:
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="skemotion-demo-"))
        handle = EmbeddingCache(folder)
        stack.callback(handle.close)
        return handle
    if cache is None:
        cache = default_cache_dir()
    return resolve_cache(cache)


@contextmanager
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn requires threadpoolctl; just in case
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _weights_text(weights):
    return ", ".join(f"{name} {value:.1f}" for name, value in weights.items())


def _print_header(cache, temporary, output_dir, plots_error):
    print("skemotion demo: emotion recognition from face and voice on a RAVDESS sample")
    print("  face:    35 facial action units per clip (OpenFace, precomputed), passed through")
    print("  audio:   AudioFeatures() on the raw 16 kHz FLAC clips (librosa statistics)")
    print(f"  fusion:  LateFusionClassifier: StandardScaler + LogisticRegression(C={C}) per "
          "modality,")
    print(f"           weights tuned by GridSearchCV over weight_grid({list(MODALITIES)}, "
          f"step={WEIGHT_STEP}), scoring macro-F1")
    where = "temporary, deleted at the end (--no-cache)" if temporary else str(cache.path)
    print(f"  cache:   {where}")
    print(f"  figures: {output_dir if plots_error is None else 'skipped: ' + plots_error}")
    print()


def _print_data(sample):
    frame = sample.frame
    n_female = frame.loc[frame["group"] % 2 == 0, "group"].nunique()
    counts = sample.target.value_counts()
    print(f"  {len(frame)} clips of {frame['group'].nunique()} actors ({n_female} female), "
          f"{len(sample.target_names)} emotions: "
          + ", ".join(f"{name} {counts.get(name, 0)}" for name in sample.target_names))
    print(f"  evaluation: speaker-independent nested CV; outer {OUTER_FOLDS} folds and "
          f"inner {INNER_FOLDS} folds by actor (StratifiedGroupKFold), so no actor is in "
          "both the training and the test part of any split")
    print()


def _print_scores(scores, n):
    print(f"Speaker-independent scores: out-of-fold predictions of the {OUTER_FOLDS} outer "
          f"folds, all {n} clips")
    print(f"  {'model':<27} {'accuracy':>8} {'macro-F1':>8} {'UAR':>6}")
    names = {"face only": "face only (AUs)", "audio only": "audio only (AudioFeatures)",
             "fused": "fused (tuned weights)"}
    for key, label in names.items():
        r = scores[key]
        print(f"  {label:<27} {r['accuracy']:>8.3f} {r['macro_f1']:>8.3f} {r['uar']:>6.3f}")
    best_single = max(("face only", "audio only"), key=lambda m: scores[m]["macro_f1"])
    gain = {k: scores["fused"][k] - scores[best_single][k] for k in ("accuracy", "macro_f1")}
    verdict = "fusion helps" if gain["macro_f1"] > 0 else "no gain from fusion on this run"
    print(f"  fused - best single modality ({best_single}): {gain['accuracy']:+.3f} accuracy, "
          f"{gain['macro_f1']:+.3f} macro-F1: {verdict}")
    print()


def _print_weights(fold_weights, search):
    print("  weights chosen in the outer folds: "
          + "; ".join(_weights_text(w) for w in fold_weights))
    weights = search.best_params_["fusion__weights"]
    print(f"  chosen weights (final search on all clips): {_weights_text(weights)}; "
          f"mean CV macro-F1 {search.best_score_:.3f}")
    print()


def _print_cache(cache, before, n_clips, temporary):
    hits, misses = cache.hits - before[0], cache.misses - before[1]
    where = "a temporary cache (--no-cache)" if temporary else str(cache.path)
    print(f"Audio feature cache: {hits:,} hits, {misses:,} misses in {where}")
    if misses == 0:
        print("  every clip's features came from the cache: no clip was analysed this time")
    elif misses == n_clips:
        print(f"  each of the {n_clips} clips was analysed once; every other lookup, in every "
              "fold and candidate, was a hit")
