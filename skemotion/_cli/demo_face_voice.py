"""``skemotion demo``: emotion recognition from face and voice on the bundled RAVDESS sample.

The package in one screen, multimodal: :class:`~skemotion.AudioFeatures` analyses the
raw speech clips, the facial action units of the same takes pass through as given,
:func:`~skemotion.make_multimodal_pipeline` joins them and normalises every feature per
actor (:class:`~skemotion.SpeakerNormalizer`, from each actor's own clips, no labels), a
:class:`~skemotion.LateFusionClassifier` fits one shrinkage LDA per modality and
:class:`~sklearn.model_selection.GridSearchCV` tunes how much each modality weighs and
how their probabilities combine. Every split is by actor (speaker-independent); the
untuned alternatives a user would try are scored on the same folds beside it. The
embedding cache analyses each clip once however many folds and candidates see it, and
two figures show the result.
"""

import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .. import (
    AudioFeatures,
    EarlyFusion,
    EmbeddingCache,
    LateFusionClassifier,
    StackingFusionClassifier,
    check_cv_groups,
    emotion_report,
    make_multimodal_pipeline,
    speaker_cv,
    weight_grid,
)
from ..datasets import load_ravdess_sample
from ._common import CacheCounter, Clock, check_writable, open_cache

MODALITIES = ("face", "audio")
WEIGHT_STEP = 0.1
RULES = ("product", "mean")
OUTER_FOLDS = 5
INNER_FOLDS = 4
# The column of the demo's frame that holds each clip's actor: SpeakerNormalizer's input.
SPEAKER = "actor"
# The EarlyFusion comparator's logistic regression: the fusion benchmark's C, not tuned.
C = 0.1
# Row labels of the score table: the tuned fusion, then what it is compared with.
FUSED = "fused (tuned weights + rule)"
COMPARATORS = (
    "EarlyFusion + LR",
    "late fusion, equal, mean",
    "late fusion, equal, product",
    "stacking (meta LR)",
)
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
        Where the audio features are cached; None means the default folder
        (``$XDG_CACHE_HOME/skemotion``, else ``~/.cache/skemotion``), False a temporary
        cache deleted at the end (without any cache, each of the ~280 fits would analyse
        the clips again).
    output_dir : str, path-like or None, default=None
        Folder for the figures; None is ``skemotion-demo-output`` in the current directory.

    Returns
    -------
    result : dict
        ``scores`` (``{"face only": report, "audio only": ..., FUSED: ..., and each of
        COMPARATORS}``, each an :func:`~skemotion.emotion_report` dict),
        ``fold_weights`` (the weights and rule chosen in each outer fold), ``search``
        (the final GridSearchCV fitted on the whole sample) and ``figures`` (paths of
        the PNG files written; empty without matplotlib).
    """
    clock = Clock()
    output_dir = Path(DEFAULT_OUTPUT_DIR if output_dir is None else output_dir).resolve()
    plots_error = _plots_available()
    if plots_error is None:  # before the work, not after it
        check_writable(output_dir, "--output-dir", folder=True)
    with ExitStack() as stack:
        handle = _cache_handle(cache, stack)
        _print_header(handle, cache is False, output_dir, plots_error)
        with clock.stage("Loading the bundled RAVDESS sample"):
            sample = load_data(n_actors)
        groups, y = sample.groups, sample.target.to_numpy()
        X = sample.data.assign(**{SPEAKER: groups})  # the speaker column of the pipeline
        _print_data(sample)
        # One BLAS thread: on a shared or small machine, BLAS threads spinning against
        # each other made logistic regression 20-50x slower (benchmarks/bench_fusion.py).
        stack.enter_context(_one_blas_thread())
        counter = CacheCounter(handle)
        encoder = AudioFeatures(cache=handle, verbose=sys.stderr.isatty())
        with clock.stage(
            f"Analysing the {len(X)} clips with AudioFeatures, into the cache "
            "(every fit below reads them from there)"
        ):
            n_features = clone(encoder).fit_transform(X["audio"]).shape[1]
        print(
            f"  {n_features} acoustic features per clip; "
            f"{len(sample.feature_names['face'])} facial action units per clip"
        )
        print()
        # The fusion step's memory: each modality's classifier is fitted once per fold,
        # not once per weighting (the weights do not change it).
        fits = stack.enter_context(tempfile.TemporaryDirectory(prefix="skemotion-demo-fits-"))
        pipe = build_pipeline(encoder, sample.feature_names["face"], memory=fits)
        comparators = build_comparators(encoder, sample.feature_names["face"])
        n_candidates = len(weight_grid(MODALITIES, step=WEIGHT_STEP)) * len(RULES)
        outer = check_cv_groups(speaker_cv(OUTER_FOLDS), groups, y=y)
        with clock.stage(
            f"Nested cross-validation: {OUTER_FOLDS} outer folds by actor; in "
            f"each, GridSearchCV fits {n_candidates} weightings and rules x "
            f"{INNER_FOLDS} inner folds by actor, then a refit; the "
            "comparators are fitted on the same outer folds"
        ):
            predictions, fold_weights = nested_predictions(pipe, comparators, X, y, groups, outer)
        scores = {name: emotion_report(y, pred) for name, pred in predictions.items()}
        _print_scores(scores, len(y))
        with clock.stage(
            f"Final GridSearchCV on all {len(y)} clips: {n_candidates} "
            f"weightings and rules x {OUTER_FOLDS} folds by actor, then a refit"
        ):
            search = build_search(pipe, OUTER_FOLDS).fit(X, y, groups=groups)
        _print_weights(fold_weights, search)
        figures = []
        if plots_error is None:
            with clock.stage("Drawing the figures"):
                figures = save_figures(
                    y, predictions[FUSED], sample.target_names, search, output_dir
                )
            for path, what in figures:
                print(f"  {path}  ({what})")
        else:
            print(f"Figures: skipped ({plots_error})")
        print()
        _print_cache(counter, len(X), cache is False)
    print(f"Done in {clock.elapsed():.1f} s.")
    return {
        "scores": scores,
        "fold_weights": fold_weights,
        "search": search,
        "figures": [path for path, _ in figures],
    }


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


def modality_classifier():
    """Each modality's classifier: standardised shrinkage LDA.

    Chosen by the fusion benchmark (benchmarks/results/fusion.md): after per-actor
    normalisation it beat logistic regression as the base of late fusion on all 1,440
    RAVDESS clips (0.876 vs 0.849 accuracy, product rule, equal weights), and it has no
    regularisation to tune (Ledoit-Wolf shrinkage is set from the data).
    """
    return make_pipeline(
        StandardScaler(), LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")
    )


def build_pipeline(encoder, face_columns, fusion=None, memory=None):
    """Face action units passed through + AudioFeatures on the clips, normalised per
    actor, -> `fusion` (default: late fusion of one classifier per modality)."""
    if fusion is None:
        fusion = LateFusionClassifier(modality_classifier(), memory=memory)
    return make_multimodal_pipeline(
        {"face": ("passthrough", list(face_columns)), "audio": (encoder, "audio")},
        fusion=fusion, speaker=SPEAKER,
    )  # fmt: skip


def build_comparators(encoder, face_columns):
    """The untuned alternatives, each a pipeline on the same per-actor normalised input."""
    early = make_pipeline(EarlyFusion(), LogisticRegression(C=C, max_iter=2000))
    fusions = dict(zip(COMPARATORS, [
        early,
        LateFusionClassifier(modality_classifier(), rule="mean"),
        LateFusionClassifier(modality_classifier(), rule="product"),
        StackingFusionClassifier(modality_classifier(), cv=INNER_FOLDS),
    ], strict=True))  # fmt: skip
    return {name: build_pipeline(encoder, face_columns, fusion) for name, fusion in
            fusions.items()}  # fmt: skip


def build_search(pipe, n_splits):
    """GridSearchCV over the modality weights and the rule, folds by actor (pass
    ``groups`` to fit)."""
    # error_score="raise": a failing fit is a bug to show, not a NaN to average over.
    grid = {"fusion__weights": weight_grid(MODALITIES, step=WEIGHT_STEP),
            "fusion__rule": list(RULES)}  # fmt: skip
    return GridSearchCV(pipe, grid, cv=speaker_cv(n_splits), scoring=SCORING, n_jobs=1,
                        error_score="raise")  # fmt: skip


def nested_predictions(pipe, comparators, X, y, groups, outer):
    """Out-of-fold predictions of the tuned fusion, each modality alone and each comparator.

    In each outer fold a grid search (inner folds by actor, on the training part only)
    chooses the weights and rule and refits; its per-modality classifiers, the very
    models the fusion combines, give the single-modality predictions. The comparators
    are fitted on the same training part (the stacking fusion with inner folds by
    actor). ``GridSearchCV`` inside ``cross_val_predict`` would not pass ``groups`` to
    the inner folds, hence the loop.

    Returns
    -------
    predictions : dict of str to ndarray
        ``"face only"``, ``"audio only"``, FUSED and each of COMPARATORS.
    fold_weights : list of dict
        The weights and rule chosen in each outer fold.
    """
    names = [f"{m} only" for m in MODALITIES] + [FUSED, *comparators]
    predictions = {name: np.empty_like(y) for name in names}
    fold_weights = []
    for k, (train, test) in enumerate(outer.split(X, y, groups)):
        began = time.perf_counter()
        search = build_search(pipe, INNER_FOLDS)
        search.fit(X.iloc[train], y[train], groups=groups[train])
        best = search.best_estimator_
        predictions[FUSED][test] = best.predict(X.iloc[test])
        fusion = best.named_steps["fusion"]
        per_modality = fusion.predict_proba_per_modality(best[:-1].transform(X.iloc[test]))
        for modality, proba in per_modality.items():
            predictions[f"{modality} only"][test] = fusion.classes_[np.argmax(proba, axis=1)]
        for name, comparator in comparators.items():
            params = ({"fusion__groups": groups[train]}
                      if isinstance(comparator[-1], StackingFusionClassifier) else {})  # fmt: skip
            comparator.fit(X.iloc[train], y[train], **params)
            predictions[name][test] = comparator.predict(X.iloc[test])
        chosen = {**search.best_params_["fusion__weights"],
                  "rule": search.best_params_["fusion__rule"]}  # fmt: skip
        fold_weights.append(chosen)
        actors = ", ".join(str(a) for a in sorted(set(groups[test])))
        accuracy = np.mean(predictions[FUSED][test] == y[test])
        print(
            f"  fold {k + 1}: test actors {actors}; chosen {_weights_text(chosen)}; "
            f"fused accuracy {accuracy:.3f} ({time.perf_counter() - began:.1f} s)",
            flush=True,
        )
    return predictions, fold_weights


def save_figures(y, y_pred, labels, search, output_dir):
    """Write the confusion matrix and the weights plot; return [(path, description)]."""
    from matplotlib.figure import Figure

    from ..plots import ConfusionMatrixDisplay, ModalityWeightsDisplay

    output_dir.mkdir(parents=True, exist_ok=True)
    # matplotlib.figure.Figure, not pyplot: no GUI backend, no global figure state.
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ConfusionMatrixDisplay.from_predictions(y, y_pred, labels=labels, ax=fig.subplots())
    fig.suptitle(
        "Late fusion (face + voice), out-of-fold predictions, folds by actor\n"
        "rows normalised: the diagonal is each emotion's recall"
    )
    confusion = output_dir / CONFUSION_FILE
    fig.savefig(confusion, dpi=110)

    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ModalityWeightsDisplay.from_cv_results(search, ax=fig.subplots())
    fig.suptitle(
        f"Modality weights: GridSearchCV, {OUTER_FOLDS} folds by actor "
        f"({len(y)} clips)\nface weight 1 = face only, 0 = audio only"
    )
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
    return open_cache(cache)


@contextmanager
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn requires threadpoolctl; just in case
        yield
        return
    with threadpool_limits(limits=1):
        yield


def _weights_text(chosen):
    """'face 0.6, audio 0.4, product' for weights (and the rule, when it is there)."""
    return ", ".join(f"{name} {value:.1f}" if name != "rule" else value
                     for name, value in chosen.items())  # fmt: skip


def _print_header(cache, temporary, output_dir, plots_error):
    print("skemotion demo: emotion recognition from face and voice on a RAVDESS sample")
    print("  face:    35 facial action units per clip (OpenFace, precomputed), passed through")
    print("  audio:   AudioFeatures() on the raw 16 kHz FLAC clips (librosa statistics)")
    print(
        "  speaker: SpeakerNormalizer: every feature standardised per actor, from the "
        "actor's own clips"
    )
    print("  fusion:  LateFusionClassifier: StandardScaler + shrinkage LDA per modality;")
    print(
        f"           weights and rule tuned by GridSearchCV over weight_grid("
        f"{list(MODALITIES)}, step={WEIGHT_STEP}) x rule {list(RULES)}, macro-F1"
    )
    where = "temporary, deleted at the end (--no-cache)" if temporary else str(cache.path)
    print(f"  cache:   {where}")
    print(f"  figures: {output_dir if plots_error is None else 'skipped: ' + plots_error}")
    print()


def _print_data(sample):
    frame = sample.frame
    n_female = frame.loc[frame["group"] % 2 == 0, "group"].nunique()
    counts = sample.target.value_counts()
    print(
        f"  {len(frame)} clips of {frame['group'].nunique()} actors ({n_female} female), "
        f"{len(sample.target_names)} emotions: "
        + ", ".join(f"{name} {counts.get(name, 0)}" for name in sample.target_names)
    )
    print(
        f"  evaluation: speaker-independent nested CV; outer {OUTER_FOLDS} folds and "
        f"inner {INNER_FOLDS} folds by actor (StratifiedGroupKFold), so no actor is in "
        "both the training and the test part of any split"
    )
    print()


def _print_scores(scores, n):
    print(
        f"Speaker-independent scores: out-of-fold predictions of the {OUTER_FOLDS} outer "
        f"folds, all {n} clips, every row on the same folds"
    )
    print(f"  {'model':<30} {'accuracy':>8} {'macro-F1':>8} {'UAR':>6}")
    labels = {"face only": "face only (AUs)", "audio only": "audio only (AudioFeatures)"}
    for key in ["face only", "audio only", *COMPARATORS, FUSED]:
        r = scores[key]
        print(
            f"  {labels.get(key, key):<30} {r['accuracy']:>8.3f} {r['macro_f1']:>8.3f} "
            f"{r['uar']:>6.3f}"
        )
    best_single = max(("face only", "audio only"), key=lambda m: scores[m]["macro_f1"])
    gain = {k: scores[FUSED][k] - scores[best_single][k] for k in ("accuracy", "macro_f1")}
    verdict = "fusion helps" if gain["macro_f1"] > 0 else "no gain from fusion on this run"
    print(
        f"  fused - best single modality ({best_single}): {gain['accuracy']:+.3f} accuracy, "
        f"{gain['macro_f1']:+.3f} macro-F1: {verdict}"
    )
    beaten = [name for name in COMPARATORS if scores[name]["macro_f1"] > scores[FUSED]["macro_f1"]]
    if beaten:
        print(
            f"  note: {', '.join(beaten)} scored a higher macro-F1 than the tuned fusion on "
            "this run"
        )
    else:
        print("  the tuned fusion scores at least the macro-F1 of every comparator above")
    print()


def _print_weights(fold_weights, search):
    print(
        "  weights and rule chosen in the outer folds: "
        + "; ".join(_weights_text(w) for w in fold_weights)
    )
    chosen = {**search.best_params_["fusion__weights"], "rule": search.best_params_["fusion__rule"]}
    print(
        f"  chosen (final search on all clips): {_weights_text(chosen)}; "
        f"mean CV macro-F1 {search.best_score_:.3f}"
    )
    print()


def _print_cache(counter, n_clips, temporary):
    hits, misses = counter.counts()
    where = "a temporary cache (--no-cache)" if temporary else str(counter.cache.path)
    print(f"Audio feature cache: {hits:,} hits, {misses:,} misses in {where}")
    if misses == 0:
        print("  every clip's features came from the cache: no clip was analysed this time")
    elif misses == n_clips:
        print(
            f"  each of the {n_clips} clips was analysed once; every other lookup, in every "
            "fold and candidate, was a hit"
        )
