"""ImageEncoder on a tiny random open_clip model: inputs, conversions, errors, cache, zero-shot.

Everything runs offline on a 2-layer CLIP config registered with open_clip in process
(random weights from ImageEncoder's fixed seed). Tests with real CLIP weights run only
when SKEMOTION_CLIP_CHECKPOINT names a local checkpoint file.
"""

import os
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _tiny_models import TINY_CLIP_DIM, tiny_clip_model
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skemotion import EmbeddingCache
from skemotion._encoders._base import MODEL_REGISTRY
from skemotion._encoders._image import ImageEncoder, _cached_tag_checkpoint
from skemotion._encoders._image_items import load_rgb

Image = pytest.importorskip("PIL.Image")
torch = pytest.importorskip("torch")
open_clip = pytest.importorskip("open_clip")

TINY_CLIP = tiny_clip_model()  # a 2-layer, 32-d CLIP config, registered with open_clip
TINY_DIM = TINY_CLIP_DIM


@pytest.fixture
def encoder():
    return ImageEncoder(TINY_CLIP, pretrained=None, device="cpu")


def _picture(height=40, width=30, seed=0):
    """A non-square RGB uint8 picture: gradients plus noise, so every pixel matters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([y * 255 // height, x * 255 // width, (x + y) % 256], axis=-1)
    return ((base + rng.integers(0, 40, base.shape)) % 256).astype(np.uint8)


def _pictures(n, seed=0):
    return [_picture(seed=seed + i) for i in range(n)]


def _save(array_or_image, path, **kwargs):
    image = (
        array_or_image
        if isinstance(array_or_image, Image.Image)
        else (Image.fromarray(array_or_image))
    )
    image.save(path, **kwargs)
    return str(path)


# --- shapes, dtype, normalisation -----------------------------------------------------------------


def test_shapes_dtype_and_feature_names(encoder):
    X = encoder.fit_transform(_pictures(3))
    assert X.shape == (3, TINY_DIM)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()
    assert list(encoder.get_feature_names_out()[:2]) == ["image_000", "image_001"]
    frame = encoder.set_output(transform="pandas").transform(pd.Series(_pictures(2), [7, 9]))
    assert list(frame.index) == [7, 9]


def test_normalize_default_gives_unit_norm_and_can_be_turned_off(encoder):
    unit = encoder.fit_transform(_pictures(3))
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    raw = clone(encoder).set_params(normalize=False).fit_transform(_pictures(3))
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), unit, atol=1e-5)


def test_default_weights_need_the_hub_and_say_how_to_work_offline():
    if _cached_tag_checkpoint("ViT-B-32", "laion2b_s34b_b79k") is not None:
        pytest.skip("the default CLIP weights are in this machine's hub cache")
    encoder = ImageEncoder(device="cpu", cache=False).fit(_pictures(1))
    with pytest.raises(RuntimeError, match=r"pretrained='laion2b_s34b_b79k'.*pass its path"):
        encoder.transform(_pictures(1))


# --- every kind of item, every colour mode --------------------------------------------------------


def test_every_item_kind_gives_the_same_embedding(encoder, tmp_path):
    rgb = _picture()
    png = _save(rgb, tmp_path / "p.png")
    items = [
        rgb,
        png,
        Path(png),
        Image.fromarray(rgb),
        Image.open(png),
        rgb.astype(np.float32) / 255,
        rgb.astype(np.float64) / 255,
        rgb.astype(np.uint16) * 257,
        np.asfortranarray(rgb),
    ]
    X = encoder.fit_transform(items)
    np.testing.assert_allclose(X, np.repeat(X[:1], len(items), axis=0), atol=1e-6)
    for container in (pd.Series(items), pd.DataFrame({"face": items})):
        np.testing.assert_allclose(clone(encoder).fit_transform(container), X, atol=1e-6)


def test_one_lazy_pil_image_listed_many_times_is_read_safely(encoder, tmp_path):
    png = _save(_picture(120, 90), tmp_path / "big.png")
    lazy = Image.open(png)  # its file is read on first use, from whichever thread
    X = encoder.set_params(batch_size=2).fit_transform([lazy] * 12)
    np.testing.assert_allclose(X, np.repeat(encoder.transform([png]), 12, axis=0), atol=1e-6)


def _same_pixels(a, b):
    np.testing.assert_array_equal(np.asarray(load_rgb(a)), np.asarray(load_rgb(b)))


def test_grey_images_fill_three_channels(tmp_path):
    grey = _picture()[:, :, 0]
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    for item in (grey, grey[:, :, None], Image.fromarray(grey), _save(grey, tmp_path / "g.png")):
        assert load_rgb(item).mode == "RGB"
        _same_pixels(item, rgb)
    assert np.asarray(load_rgb(Image.fromarray(grey > 128))).max() == 255  # mode "1"


def test_16_bit_images_scale_to_8_bits(tmp_path):
    grey = _picture()[:, :, 0]
    deep = grey.astype(np.uint16) * 257  # 0..255 -> 0..65535
    pil16 = Image.fromarray(deep)
    assert pil16.mode == "I;16"
    png16 = _save(pil16, tmp_path / "d.png")
    for item in (deep, deep[:, :, None], pil16, pil16.convert("I"), png16):
        _same_pixels(item, grey)
    _same_pixels(np.full((4, 4), 65535, np.uint16), np.full((4, 4), 255, np.uint8))


def test_transparency_is_composited_on_white(tmp_path):
    rgb = _picture()
    alpha = np.tile(np.linspace(0, 255, rgb.shape[1]).astype(np.uint8), (rgb.shape[0], 1))
    rgba = np.dstack([rgb, alpha])
    a = alpha[:, :, None].astype(np.float64) / 255
    expected = np.rint(rgb * a + 255 * (1 - a)).astype(np.uint8)
    got = np.asarray(load_rgb(rgba)).astype(int)
    assert np.abs(got - expected).max() <= 1
    for item in (Image.fromarray(rgba), _save(rgba, tmp_path / "t.png")):
        _same_pixels(item, rgba)
    transparent = np.zeros((4, 4, 4), np.uint8)  # black, fully transparent: white
    assert (np.asarray(load_rgb(transparent)) == 255).all()
    grey_alpha = Image.fromarray(np.dstack([rgb[:, :, 0], alpha]), mode="LA")
    _same_pixels(grey_alpha, np.dstack([np.repeat(rgb[:, :, :1], 3, axis=2), alpha]))


def test_palette_and_other_modes_convert_to_rgb():
    rgb = Image.fromarray(_picture())
    palette = rgb.quantize(16)
    _same_pixels(palette, palette.convert("RGB"))
    palette.info["transparency"] = 0  # palette index 0 becomes white
    seen = np.asarray(load_rgb(palette))
    index = np.asarray(palette)
    assert (seen[index == 0] == 255).all()
    assert (seen[index != 0] == np.asarray(palette.convert("RGB"))[index != 0]).all()
    for mode in ("CMYK", "YCbCr", "HSV"):
        other = rgb.convert(mode)
        _same_pixels(other, other.convert("RGB"))
    _same_pixels(Image.fromarray(_picture()[:, :, 0].astype(np.float32) / 255), _picture()[:, :, 0])


def test_exif_orientation_is_applied(tmp_path):
    picture = Image.fromarray(_picture())
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    path = _save(picture, tmp_path / "r.png", exif=exif)
    upright = load_rgb(path)
    assert upright.size == (picture.height, picture.width)
    _same_pixels(upright, picture.transpose(Image.Transpose.ROTATE_270))
    _same_pixels(Image.open(path), upright)


def test_pil_item_cache_keys_see_palette_changes(encoder, tmp_path):
    palette = Image.fromarray(_picture()).quantize(8)
    other = palette.copy()
    other.putpalette([255 - v for v in palette.getpalette()])
    cache = EmbeddingCache(tmp_path)
    X = encoder.set_params(cache=cache).fit_transform([palette, other])
    assert cache.count() == 2
    assert not np.allclose(X[0], X[1])


# --- bad items ------------------------------------------------------------------------------------


@pytest.fixture
def bad_files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    jpeg = tmp_path / "whole.jpg"
    Image.fromarray(_picture(200, 200)).save(jpeg, quality=90)
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(jpeg.read_bytes()[: jpeg.stat().st_size // 2])
    return {"missing": str(tmp_path / "gone.png"), "text": str(text), "truncated": str(truncated)}


@pytest.mark.parametrize(
    "kind, match",
    [
        ("missing", r"\[Errno 2\] No such file"),
        ("text", r"the file is not an image Pillow can read"),
        ("truncated", r"the image file is truncated or corrupt"),
    ],
)
@pytest.mark.parametrize("cache", [False, "tmp"])
def test_unreadable_files_raise_naming_item_and_path(
    encoder, bad_files, kind, match, cache, tmp_path
):
    encoder.set_params(cache=tmp_path / "cache" if cache else False)
    items = [_picture(), bad_files[kind]]
    encoder.fit(items)  # fit reads no file
    name = Path(bad_files[kind]).name
    with pytest.raises(ValueError, match=rf"ImageEncoder: image item 1 \('.*{name}'\): {match}"):
        encoder.transform(items)


@pytest.mark.parametrize(
    "item, match",
    [
        (np.zeros((0, 5, 3), np.uint8), r"is an empty array \(shape \(0, 5, 3\)\)"),
        (np.zeros(12, np.uint8), r"is an array of shape \(12,\), which is not an im"),
        (np.zeros((2, 4, 4, 3), np.uint8), r"is an array of shape \(2, 4, 4, 3\), which is not"),
        (np.zeros((4, 4, 2), np.uint8), r"is an array .*\(H, W, C\) with C = 1 \(grey\), 3"),
        (np.zeros((4, 4), complex), r"is an array of dtype complex128"),
        (5, r"is a int \(5\), not an image. Pass a file path, a PIL.Image"),
        (b"\x89PNG", r"is a bytes"),
        ({"path": "a.png"}, r"is a dict"),
    ],
)
def test_items_that_are_not_images_raise_naming_the_item(encoder, item, match):
    with pytest.raises(TypeError, match=rf"ImageEncoder: image item 1 {match}"):
        encoder.fit([_picture(), item])


@pytest.mark.parametrize(
    "bad", [np.full((4, 4), 2.0), np.full((4, 4, 3), -0.5), np.full((4, 4), np.nan)]
)
def test_float_pixels_outside_unit_range_raise_with_the_fix(encoder, bad):
    encoder.fit([bad])
    message = r"image item 0 \(array of .*float64\): float pixels must lie in \[0, 1\].*array / 255"
    with pytest.raises(ValueError, match=message):
        encoder.transform([bad])


@pytest.mark.parametrize("missing, fill", [("error", 0.0), ("nan", np.nan)])
def test_skip_fills_unreadable_rows_and_warns_naming_each(encoder, bad_files, missing, fill):
    items = [_picture(), bad_files["text"], bad_files["truncated"], _picture(seed=3)]
    encoder.set_params(on_error="skip", missing=missing)
    with pytest.warns(UserWarning, match=r"could not encode 2 item.*item 1 .*notes.txt.*item 2"):
        X = encoder.fit_transform(items)
    np.testing.assert_array_equal(X[1:3], np.full((2, TINY_DIM), fill, np.float32))
    np.testing.assert_allclose(
        X[[0, 3]], clone(encoder).fit_transform([items[0], items[3]]), atol=1e-6
    )


@pytest.mark.parametrize("policy, fill", [("zeros", 0.0), ("nan", np.nan)])
def test_missing_images_follow_the_missing_policy(encoder, policy, fill):
    items = [_picture(), None, np.nan, _picture(seed=1)]
    with pytest.raises(ValueError, match=r"image item 1 is missing.*missing='zeros'"):
        encoder.fit(items)
    X = encoder.set_params(missing=policy).fit_transform(items)
    np.testing.assert_array_equal(X[1:3], np.full((2, TINY_DIM), fill, np.float32))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"on_error": "ignore"}, "on_error"),
        ({"pretrained": 3}, "pretrained"),
        ({"normalize": "yes"}, "normalize"),
        ({"model": None}, "model"),
    ],
)
def test_bad_parameters_are_named_at_fit(encoder, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        encoder.set_params(**params).fit(_pictures(1))


def test_unknown_model_or_weights_are_named_when_loading(encoder):
    for params in ({"model": "ViT-Nope"}, {"pretrained": "/no/such/checkpoint.pt"}):
        bad = clone(encoder).set_params(cache=False, **params).fit(_pictures(1))
        with pytest.raises(RuntimeError, match="ImageEncoder could not load .*pretrained="):
            bad.transform(_pictures(1))


def test_model_names_with_their_own_weights_are_refused(encoder):
    encoder.set_params(model="hf-hub:laion/CLIP-ViT-B-32-laion2B-s34B-b79K").fit(_pictures(1))
    with pytest.raises(ValueError, match=r"'model' parameter .*config name.*pretrained="):
        encoder.transform(_pictures(1))


# --- weights: random, local files, pickling -------------------------------------------------------


def test_random_weights_are_reproducible_and_leave_the_global_rng_alone(encoder):
    torch.manual_seed(123)
    expected_draw = torch.rand(3)
    torch.manual_seed(123)
    MODEL_REGISTRY.clear()
    first = encoder.fit_transform(_pictures(3))
    np.testing.assert_array_equal(torch.rand(3), expected_draw)
    MODEL_REGISTRY.clear()
    again = clone(encoder).fit_transform(_pictures(3))
    np.testing.assert_array_equal(again, first)
    identity = encoder._model_identity()
    assert identity["weights"] == "random" and identity["seed"] == 0
    assert identity["config"] == TINY_CLIP


def test_a_local_checkpoint_file_loads_and_is_identified_by_content(encoder, tmp_path):
    expected = encoder.fit_transform(_pictures(2))
    path = tmp_path / "tiny.pt"
    torch.save(encoder._model.model.state_dict(), path)
    from_file = clone(encoder).set_params(pretrained=str(path))
    np.testing.assert_allclose(from_file.fit_transform(_pictures(2)), expected, atol=1e-6)
    assert len(from_file._model_identity()["sha256"]) == 64
    copy = tmp_path / "renamed.pt"
    copy.write_bytes(path.read_bytes())
    renamed = clone(from_file).set_params(pretrained=copy)  # a PathLike works too
    assert renamed._fingerprint() == from_file._fingerprint()
    assert from_file._fingerprint() != encoder._fingerprint()


def test_pickle_carries_no_weights_and_reloads(encoder):
    X = encoder.fit_transform(_pictures(3))
    payload = pickle.dumps(encoder)
    assert len(payload) < 2_000
    MODEL_REGISTRY.clear()
    np.testing.assert_array_equal(pickle.loads(payload).transform(_pictures(3)), X)


# --- the embedding cache --------------------------------------------------------------------------


def _count_encoded_images(monkeypatch):
    """Count every image the model encodes (by its preprocessed pixels), across clones."""
    counts = Counter()
    original = ImageEncoder._encode_batch

    def counting(self, model, items):
        counts.update(item.numpy().tobytes() for item in items)
        return original(self, model, items)

    monkeypatch.setattr(ImageEncoder, "_encode_batch", counting)
    return counts


def test_grid_search_encodes_each_unique_image_once(tmp_path, monkeypatch):
    counts = _count_encoded_images(monkeypatch)
    pictures = [_picture(16, 16, seed=i) for i in range(20)]
    paths = [_save(p, tmp_path / f"{i}.png") for i, p in enumerate(pictures[:10])]
    items = paths + pictures[10:] + pictures[10:15]  # 5 repeats of in-memory pictures
    y = [i % 2 for i in range(len(items))]
    cache = EmbeddingCache(tmp_path / "cache")
    pipe = make_pipeline(
        ImageEncoder(TINY_CLIP, pretrained=None, device="cpu", cache=cache), LogisticRegression()
    )
    search = GridSearchCV(
        pipe,
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    search.fit(items, y)
    assert len(counts) == 20 and max(counts.values()) == 1
    assert cache.stats()["rows"] == 20
    counts.clear()
    clone(search).fit(items, y)
    assert not counts


def test_warm_cache_loads_no_model(encoder, tmp_path, monkeypatch):
    expected = encoder.set_params(cache=tmp_path).fit_transform(_pictures(3))
    MODEL_REGISTRY.clear()

    def refuse(*args):
        raise AssertionError("the model was loaded although every image was cached")

    monkeypatch.setattr(ImageEncoder, "_load_model", refuse)
    np.testing.assert_array_equal(clone(encoder).fit_transform(_pictures(3)), expected)


def test_normalize_gets_its_own_cache_entries(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path)
    encoder.set_params(cache=cache).fit_transform(_pictures(2))
    clone(encoder).set_params(normalize=False).fit_transform(_pictures(2))
    assert cache.count() == 4


# --- zero-shot ------------------------------------------------------------------------------------


LABELS = ["happy", "sad", "angry", "surprised"]


def test_zero_shot_probabilities_have_one_column_per_label(encoder):
    proba = encoder.zero_shot_proba(_pictures(3), LABELS)  # no fit needed
    assert proba.shape == (3, 4) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba > 0).all()
    reordered = encoder.zero_shot_proba(_pictures(3), LABELS[::-1])
    np.testing.assert_allclose(reordered, proba[:, ::-1], rtol=1e-5)
    assert not hasattr(encoder, "n_features_in_")  # it fitted a clone, not the encoder


def test_zero_shot_templates_and_ensembles(encoder):
    one = encoder.zero_shot_proba(_pictures(2), LABELS, template="a {label} person")
    ensemble = encoder.zero_shot_proba(
        _pictures(2), LABELS, template=["a {label} person", "a photo of a {label} face"]
    )
    assert ensemble.shape == one.shape == (2, 4)
    assert not np.allclose(one, ensemble)


@pytest.mark.parametrize("policy, fill", [("zeros", 0.0), ("nan", np.nan)])
def test_zero_shot_rows_of_missing_images_follow_the_policy(encoder, policy, fill):
    items = [_picture(), None, _picture(seed=1)]
    with pytest.raises(ValueError, match="image item 1 is missing"):
        encoder.zero_shot_proba(items, LABELS)
    proba = encoder.set_params(missing=policy).zero_shot_proba(items, LABELS)
    np.testing.assert_array_equal(proba[1], np.full(4, fill))
    np.testing.assert_allclose(proba[[0, 2]].sum(axis=1), 1.0)


@pytest.mark.parametrize(
    "labels, template, error, match",
    [
        ("happy", "{label}", TypeError, "'labels'.*sequence of str"),
        ([1, 2], "{label}", TypeError, "'labels'"),
        (["happy"], "{label}", ValueError, "at least two distinct"),
        (["happy", "happy"], "{label}", ValueError, "at least two distinct"),
        (LABELS, "a photo", ValueError, "'template'.*'{label}'"),
        (LABELS, [], ValueError, "'template'"),
    ],
)
def test_zero_shot_bad_labels_or_templates(encoder, labels, template, error, match):
    with pytest.raises(error, match=match):
        encoder.zero_shot_proba(_pictures(1), labels, template=template)


# --- real CLIP weights (a local checkpoint) -------------------------------------------------------

CHECKPOINT = os.environ.get("SKEMOTION_CLIP_CHECKPOINT")
needs_clip_weights = pytest.mark.skipif(
    not CHECKPOINT or not Path(CHECKPOINT).is_file(),
    reason="set SKEMOTION_CLIP_CHECKPOINT to a local open_clip checkpoint file (and "
    "SKEMOTION_CLIP_MODEL to its config, default ViT-B-32) to run real-weight tests",
)
FER = Path(__file__).resolve().parents[2] / "shared" / "data" / "fer2013_test"


def _real_encoder():
    model = os.environ.get("SKEMOTION_CLIP_MODEL", "ViT-B-32")
    return ImageEncoder(model, pretrained=CHECKPOINT, device="cpu")


@pytest.mark.slow
@needs_clip_weights
def test_real_weights_zero_shot_tells_happy_from_sad_faces():
    if not FER.is_dir():
        pytest.skip(f"FER-2013 test faces not found at {FER}")
    happy = sorted((FER / "happy").iterdir())[:40]
    sad = sorted((FER / "sad").iterdir())[:40]
    proba = _real_encoder().zero_shot_proba([str(p) for p in happy + sad], ["happy", "sad"])
    accuracy = ((proba[:, 0] > 0.5) == np.repeat([True, False], 40)).mean()
    assert accuracy > 0.65


@pytest.mark.slow
@needs_clip_weights
def test_real_weights_load_from_a_file_and_embed_every_kind_alike():
    encoder = _real_encoder()
    grey = _picture()[:, :, 0]
    X = encoder.fit_transform([grey, Image.fromarray(grey), grey.astype(np.float32) / 255])
    np.testing.assert_allclose(X, np.repeat(X[:1], 3, axis=0), atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    assert len(encoder._model_identity()["sha256"]) == 64
