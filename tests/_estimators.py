"""The registry of scikit-learn's estimator checks: every public estimator, how the checks
build it, the checks it is expected to fail (each with its reason), and one input hook.

Modelled on imbalanced-learn's ``utils/_test_common/instance_generator.py``: the
checks run in tests/test_common.py; each module's own behaviour is tested in its
test file.

scikit-learn's checks generate numeric matrices. The encoders embed raw items
(texts, images, faces, clips), so the input hook renders each numeric row as one
item, deterministically and as a function of the row, so that the checks exercise
the real encoder on real items. SpeakerNormalizer needs a speaker column, which the
hook appends. Checks that build their input without the hook are the expected
failures below.
"""

import importlib.util
from pathlib import Path

import numpy as np
from _tiny_models import tiny_audio_model_dir, tiny_clip_model, tiny_text_model_dir
from sklearn import __version__ as _sklearn_release
from sklearn.linear_model import LogisticRegression
from sklearn.metrics.pairwise import linear_kernel
from sklearn.utils import estimator_checks
from sklearn.utils.fixes import parse_version

from skemotion import (
    AttentionFusionClassifier,
    AudioEncoder,
    AudioFeatures,
    EarlyFusion,
    FaceEncoder,
    ImageEncoder,
    LateFusionClassifier,
    SpeakerNormalizer,
    StackingFusionClassifier,
    TextEncoder,
    TunedOffsetClassifierCV,
)

_ALL_COLUMNS = {"all": slice(0, None)}
_EVEN_AND_ODD_COLUMNS = {"even": slice(0, None, 2), "odd": slice(1, None, 2)}


def _lr():
    return LogisticRegression(max_iter=1000)


# Constructor arguments for the checks, which run on tiny data and must run quickly: a
# dict, a list of dicts (one instance each), or a function returning those where a tiny
# model must be built first (so that it is built only where its libraries are installed).
INIT_PARAMS = {
    TextEncoder: lambda: {"model": tiny_text_model_dir(), "device": "cpu"},
    ImageEncoder: lambda: {"model": tiny_clip_model(), "pretrained": None, "device": "cpu"},
    FaceEncoder: {"device": "cpu", "batch_size": 4},
    AudioFeatures: {"features": ("mfcc", "pitch", "rms"), "cache": False},
    AudioEncoder: lambda: {
        "model": tiny_audio_model_dir("wav2vec2-group"),
        "device": "cpu",
        "cache": False,
    },
    EarlyFusion: [
        {"modalities": _ALL_COLUMNS},
        {"weights": [2, 1], "add_indicator": True, "modalities": _EVEN_AND_ODD_COLUMNS},
    ],
    LateFusionClassifier: [
        {"estimator": _lr(), "modalities": _ALL_COLUMNS},
        {
            "estimator": _lr(),
            "weights": [0.3, 0.7],
            "rule": "product",
            "modalities": _EVEN_AND_ODD_COLUMNS,
        },
    ],
    StackingFusionClassifier: [
        {"estimator": _lr(), "modalities": _ALL_COLUMNS, "cv": 3},
        {"estimator": _lr(), "modalities": _EVEN_AND_ODD_COLUMNS, "cv": 2},
    ],
    AttentionFusionClassifier: {
        "hidden_dim": 8,
        "n_heads": 2,
        "max_epochs": 15,
        "n_iter_no_change": 15,
        "dropout": 0.0,
        "modality_dropout": 0.0,
        "learning_rate": 3e-2,
        "random_state": 0,
        "device": "cpu",
        "modalities": _ALL_COLUMNS,
    },
    # The hook appends the speaker column last.
    SpeakerNormalizer: [
        {"speaker": -1},
        {"speaker": -1, "with_mean": False, "min_samples": 1},
    ],
    TunedOffsetClassifierCV: {"estimator": LogisticRegression()},
}

# The optional libraries each estimator's checks need: its own, those that build its
# tiny model, and those that write the items the hook renders.
REQUIRED_MODULES = {
    TextEncoder: ("torch", "sentence_transformers", "transformers"),
    ImageEncoder: ("torch", "open_clip", "PIL"),
    FaceEncoder: ("torch", "h5py", "cv2", "PIL"),
    AudioFeatures: ("soxr", "soundfile"),
    AudioEncoder: ("torch", "transformers", "soxr", "soundfile"),
    AttentionFusionClassifier: ("torch",),
}


def missing_modules(Estimator):
    """The optional libraries that ``Estimator``'s checks need and this process lacks."""
    required = REQUIRED_MODULES.get(Estimator, ())
    return [name for name in required if importlib.util.find_spec(name) is None]


def _construct_instances(Estimator):
    param_sets = INIT_PARAMS[Estimator]
    if callable(param_sets):
        param_sets = param_sets()
    if isinstance(param_sets, dict):
        param_sets = [param_sets]
    return [Estimator(**params) for params in param_sets]


def estimators_to_check():
    """Every registered estimator instance whose optional libraries are installed."""
    for Estimator in INIT_PARAMS:
        if not missing_modules(Estimator):
            yield from _construct_instances(Estimator)


# --- expected failures ------------------------------------------------------------------

_NUMBERS = (
    "feeds numbers that bypass the input hook; an encoder refuses a number as an item "
    "with a TypeError naming the item (tested in each encoder's test file)"
)
_SPARSE = "raw items (texts, images, clips) cannot be held in a scipy sparse matrix"
_ONE_D = "1-D input is a list of items, which every encoder accepts"

_RAW_ITEM_XFAILS = {
    "check_estimators_dtypes": _NUMBERS,
    "check_complex_data": _NUMBERS + "; complex numbers are no item either",
    "check_estimators_nan_inf": (
        _NUMBERS + "; missing items follow the `missing` policy, tested per encoder"
    ),
    "check_fit1d": _ONE_D + "; " + _NUMBERS,
    "check_fit2d_predict1d": _ONE_D,
    "check_estimator_sparse_tag": _SPARSE,
    "check_estimator_sparse_array": _SPARSE,
    "check_estimator_sparse_matrix": _SPARSE,
    "check_positive_only_tag_during_fit": "subtracts the minimum from the input, which is items",
    "check_n_features_in_after_fitting": (
        "slices a second column out of the input; an encoder reads exactly one column"
    ),
}
if parse_version(_sklearn_release) < parse_version("1.7"):
    # scikit-learn 1.6's check builds y as (X[:, 0] * 4).astype(int) from the X the
    # input hook made, whose first column is items (clips, images), not numbers.
    _RAW_ITEM_XFAILS["check_dtype_object"] = (
        "scikit-learn < 1.7 builds y from the first column of the items the hook made"
    )

_SPEAKER_NORMALIZER_XFAILS = {
    "check_n_features_in_after_fitting": (
        "builds its input without the input hook, so X has no speaker column and the "
        "first feature is read as the speaker id"
    ),
    "check_estimators_pickle": (
        "sets NaN at random positions, the speaker column included; a missing speaker id "
        "is an error by design (test_speaker.py::test_missing_speaker_id_names_the_row)"
    ),
}

EXPECTED_FAILED_CHECKS = {
    TextEncoder: _RAW_ITEM_XFAILS,
    ImageEncoder: _RAW_ITEM_XFAILS,
    FaceEncoder: {
        **_RAW_ITEM_XFAILS,
        "check_transformer_data_not_an_array": (
            "the check itself calls np.asarray on X.tolist(), which stacks the one-image "
            "rows into a 4-D array; FaceEncoder accepts such nested lists (test_face.py)"
        ),
    },
    AudioFeatures: _RAW_ITEM_XFAILS,
    AudioEncoder: _RAW_ITEM_XFAILS,
    AttentionFusionClassifier: {
        "check_sample_weight_equivalence_on_dense_data": (
            "mini-batch training with a random validation split for early stopping: "
            "weighting a sample by 2 is not repeating it (the split and batches differ); "
            "sample_weight weighs the loss (test_fusion_attention.py)"
        ),
    },
    SpeakerNormalizer: _SPEAKER_NORMALIZER_XFAILS,
    TunedOffsetClassifierCV: {
        # As for scikit-learn's TunedThresholdClassifierCV, in its own test suite.
        "check_classifiers_train": (
            "predict is argmax(log proba + offsets_) by design, so it differs from the "
            "argmax of the unshifted predict_proba / decision_function on a few samples"
        ),
    },
}


def expected_failed_checks(estimator):
    """The checks ``estimator`` is expected to fail, mapped to the reasons."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator), {})


# --- the input hook ---------------------------------------------------------------------


def _digit_names(X):
    """One string of digits per numeric row: deterministic, and equal for equal rows.

    Checks derive a target with ``X[:, 0].astype(int)``: a string of digits still
    converts, and the encoder sees an ordinary text, or the relative path of a file
    written under that name.
    """
    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    return ["".join(str(round(abs(v) * 100)) for v in row)[:15] for row in X]


def _one_column(items):
    """Items in one object column, as ColumnTransformer passes a modality."""
    column = np.empty((len(items), 1), dtype=object)
    for i, item in enumerate(items):  # one by one: numpy would stack array items
        column[i, 0] = item
    return column


def _as_texts(X):
    return _one_column(_digit_names(X))


def _as_image_files(X):
    """One 4 x 4 RGB PNG file per row, in the working folder, its pixels drawn from its name."""
    from PIL import Image

    names = _digit_names(X)
    for name in set(names):
        if not Path(name).exists():
            digits = np.frombuffer(name.encode(), np.uint8) - ord("0")
            pixels = (np.resize(digits, 48) * 25).astype(np.uint8).reshape(4, 4, 3)
            Image.fromarray(pixels).save(name, format="PNG")
    return _one_column(names)


class _RenderedImage(np.ndarray):
    """An image array that converts to int as its row's first value did.

    Checks derive a target with ``X[:, 0].astype(int)``; the encoder sees an ordinary
    uint8 image array.
    """

    def __int__(self):
        return int(self.first_value)


def _as_image_arrays(X):
    """One 8 x 8 grey uint8 array per row: the row repeated, squashed into 0-255 by tanh.

    Between them, FaceEncoder's checks (arrays in memory) and ImageEncoder's (files)
    cover both kinds of image item.
    """
    X = np.asarray(X, dtype=float)
    X = X[:, None] if X.ndim == 1 else X
    images = []
    for row in X:
        values = np.resize(row, 64).reshape(8, 8)
        image = np.rint(127.5 + 127.5 * np.tanh(values)).astype(np.uint8).view(_RenderedImage)
        image.first_value = row[0]
        images.append(image)
    return _one_column(images)


_CLIP_RATE = 16000


def _as_clip_files(X):
    """One float WAV file per row, in the working folder, a sum of tones set by its name.

    libsndfile reads the header, not the name. Lengths differ between names (0.1 s to
    0.2 s) so that AudioEncoder's group-norm model encodes each clip alone: equal
    lengths would share a batch, and batched float32 arithmetic differs from a single
    clip's by ~1e-7, which check_methods_subset_invariance (atol 1e-7) can catch on
    near-zero values (batching is tested at 1e-5 in test_audio_encoder.py).
    """
    import soundfile as sf

    names = _digit_names(X)
    for name in set(names):
        if not Path(name).exists():
            t = np.arange(_CLIP_RATE // 10 + int(name) % 1601) / _CLIP_RATE
            freqs = [100 + 37 * int(name[i : i + 3]) % 700 for i in range(0, len(name), 3)]
            clip = 0.2 * np.sin(2 * np.pi * np.asarray(freqs)[:, None] * t).sum(0)
            sf.write(name, clip.astype(np.float32), _CLIP_RATE, format="WAV", subtype="FLOAT")
    return _one_column(names)


_ITEM_RENDERERS = {
    TextEncoder: _as_texts,
    ImageEncoder: _as_image_files,
    FaceEncoder: _as_image_arrays,
    AudioFeatures: _as_clip_files,
    AudioEncoder: _as_clip_files,
}
_FILE_RENDERERS = {_as_image_files, _as_clip_files}


def _with_speaker_column(X):
    """Append a speaker column: row ``i`` belongs to speaker ``i % 3``."""
    X = np.asarray(X)
    if X.ndim == 1:
        return X
    return np.column_stack([X, np.arange(X.shape[0]) % 3])


def writes_item_files(estimator):
    """Whether the hook renders rows as files, named relative to the working folder."""
    return _ITEM_RENDERERS.get(type(estimator)) in _FILE_RENDERERS


_sklearn_enforce_X = estimator_checks._enforce_estimator_tags_X


def enforce_check_input(estimator, X, X_test=None, kernel=linear_kernel):
    """The input hook, in place of scikit-learn's ``_enforce_estimator_tags_X``.

    An encoder gets each numeric row rendered as one item: not scikit-learn's
    adjustment, which keeps only the first column for estimators that take 1-D input,
    as the encoders do. SpeakerNormalizer gets scikit-learn's input plus a speaker
    column; every other estimator gets scikit-learn's input.
    """
    render = _ITEM_RENDERERS.get(type(estimator))
    if render is not None:
        return render(X) if X_test is None else (render(X), render(X_test))
    enforced = _sklearn_enforce_X(estimator, X, X_test, kernel)
    if not isinstance(estimator, SpeakerNormalizer):
        return enforced
    if X_test is None:
        return _with_speaker_column(enforced)
    return tuple(_with_speaker_column(part) for part in enforced)
