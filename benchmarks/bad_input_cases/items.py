"""Bad items for the encoders: containers, texts, missing values, parameters, segments.

TextEncoder on the tiny text model of the tests stands for the item handling that every
encoder shares (skemotion/_encoders/_items.py, _base.py, _segment.py); segments are fed
to the tiny AudioEncoder and to FaceEncoder (videos).
"""

import collections
import copy
import decimal
import functools
import pickle
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ._fixtures import scratch, tiny_audio_model, tiny_text_model, write_image, write_wav
from ._registry import WrongResult, add, case

TEXTS = ["i am happy", "i feel sad", "this is very angry"]
DIM = 32  # the tiny text model's embedding size


def _text_encoder(**params):
    from skemotion import TextEncoder

    return TextEncoder(tiny_text_model(), device="cpu", cache=False, **params)


@functools.cache
def _reference(text):
    """The embedding of one text, from a plain list (read-only)."""
    row = _text_encoder().fit_transform([text])[0]
    row.setflags(write=False)
    return row


def _want(texts):
    return np.stack([_reference(text) for text in texts])


def _check_rows(got, texts, what, atol=1e-5):
    """`got` must be the rows of `texts` embedded from a plain list."""
    got = np.asarray(got)
    want = _want(texts)
    if got.shape != want.shape:
        raise WrongResult(f"{what}: shape {got.shape}, expected {want.shape}")
    # Texts batched together differ from texts embedded alone in the 7th digit.
    if not np.allclose(got, want, rtol=0, atol=atol):
        raise WrongResult(f"{what}: the rows differ from the same texts given as a list")


def _no_warning(function):
    """Call `function`, raising WrongResult if it warns; return its result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function()
    own = [str(w.message) for w in caught if "TextEncoder" in str(w.message)]
    if own:
        raise WrongResult(f"unexpected warning: {own[0][:200]}")
    return result


# --- containers ---------------------------------------------------------------------------


@case("items", "error", names=("dict", "values()"))
def case_text_dict():
    _text_encoder().fit_transform({"id1": "I am happy"})


@case("items", "handled")
def case_text_tuple_same_as_list():
    texts = ("i am happy", "i am sad")
    got = _text_encoder().fit_transform(texts)
    want = _text_encoder().fit_transform(list(texts))
    if not np.array_equal(got, want):
        raise WrongResult("a tuple embeds differently from the same list")


add(
    "items", "text None", "error", lambda: _text_encoder().fit_transform(["ok", None]), names=("1",)
)

add(
    "items",
    "set of texts",
    "error",
    lambda: _text_encoder().fit_transform(set(TEXTS)),
    names=("set", "sorted"),
)
add(
    "items",
    "frozenset of texts",
    "error",
    lambda: _text_encoder().fit_transform(frozenset(TEXTS)),
    names=("frozenset", "list"),
)
add(
    "items",
    "generator of texts",
    "error",
    lambda: _text_encoder().fit_transform(t for t in TEXTS),
    names=("generator", "list("),
)
add(
    "items",
    "iterator over a list of texts",
    "error",
    lambda: _text_encoder().fit_transform(iter(TEXTS)),
    names=("iterator", "list("),
)
add(
    "items",
    "map object of texts",
    "error",
    lambda: _text_encoder().fit_transform(map(str.lower, TEXTS)),
    names=("map", "list("),
)
add(
    "items",
    "a single string instead of a list",
    "error",
    lambda: _text_encoder().fit_transform("i am happy"),
    names=("str", "Wrap it in a list"),
)
add(
    "items",
    "a single bytes object instead of a list",
    "error",
    lambda: _text_encoder().fit_transform(b"i am happy"),
    names=("bytes", "list"),
)
add(
    "items",
    "transform of a single string after fit",
    "error",
    lambda: _text_encoder().fit(TEXTS).transform("i am happy"),
    names=("str", "Wrap it in a list"),
)
add(
    "items",
    "dict given to transform after fit on a list",
    "error",
    lambda: _text_encoder().fit(TEXTS).transform({"a": "i am happy"}),
    names=("dict", "values()"),
)
add(
    "items",
    "Counter of texts (a mapping)",
    "error",
    lambda: _text_encoder().fit_transform(collections.Counter(TEXTS)),
    names=("Counter", "values()"),
)


@case("items", "handled")
def case_nested_list_of_one_column_is_flattened():
    got = _text_encoder().fit_transform([[t] for t in TEXTS])
    _check_rows(got, TEXTS, "[[text], ...]")


add(
    "items",
    "nested list of two columns",
    "error",
    lambda: _text_encoder().fit_transform([["i am happy", "sad"], ["a", "b"]]),
    names=("item 0", "list"),
)
add(
    "items",
    "ragged nested list (one row of two texts)",
    "error",
    lambda: _text_encoder().fit_transform([["i am happy"], ["a", "b"]]),
    names=("item 0", "list"),
)
add(
    "items",
    "list with one nested list among strings",
    "error",
    lambda: _text_encoder().fit_transform(["i am happy", ["sad"]]),
    names=("item 1", "list"),
)


@case("items", "handled")
def case_numpy_2d_string_array_of_one_column():
    got = _text_encoder().fit_transform(np.array(TEXTS)[:, None])
    _check_rows(got, TEXTS, "a (3, 1) array of str")


add(
    "items",
    "numpy 2-D string array of two columns",
    "error",
    lambda: _text_encoder().fit_transform(np.array([["a", "b"], ["c", "d"]])),
    names=("2 columns", "ColumnTransformer"),
)
add(
    "items",
    "numpy 3-D string array",
    "error",
    lambda: _text_encoder().fit_transform(np.array(TEXTS).reshape(3, 1, 1)),
    names=("shape (3, 1, 1)", "1-D"),
)
add(
    "items",
    "numpy 0-D string array",
    "error",
    lambda: _text_encoder().fit_transform(np.array("i am happy")),
    names=("shape ()", "1-D"),
)
add(
    "items",
    "numpy 2-D array with zero columns",
    "error",
    lambda: _text_encoder().fit_transform(np.empty((3, 0), dtype=str)),
    names=("0 feature",),
)


@case("items", "handled")
def case_numpy_unicode_array():
    _check_rows(_text_encoder().fit_transform(np.array(TEXTS)), TEXTS, "a 1-D <U array")


@case("items", "handled")
def case_numpy_object_array():
    got = _text_encoder().fit_transform(np.array(TEXTS, dtype=object))
    _check_rows(got, TEXTS, "an object array")


@case("items", "handled")
def case_numpy_str_scalars_in_a_list():
    got = _text_encoder().fit_transform([np.str_(t) for t in TEXTS])
    _check_rows(got, TEXTS, "np.str_ items")


add(
    "items",
    "numpy bytes array (dtype S)",
    "error",
    lambda: _text_encoder().fit_transform(np.array([b"i am happy", b"sad"])),
    names=("item 0", "bytes"),
)


@case("items", "handled")
def case_pandas_series_default_index():
    _check_rows(_text_encoder().fit_transform(pd.Series(TEXTS)), TEXTS, "a Series")


@case("items", "handled")
def case_pandas_series_with_string_index():
    series = pd.Series(TEXTS, index=["x", "y", "z"])
    _check_rows(_text_encoder().fit_transform(series), TEXTS, "a Series with str index")


add(
    "items",
    "Series with string index and None at 'y'",
    "error",
    lambda: _text_encoder().fit_transform(pd.Series(["a", None, "b"], index=["x", "y", "z"])),
    names=("item 1", "'y'", "missing="),
)
add(
    "items",
    "Series with shuffled integer index and None at label 3",
    "error",
    lambda: _text_encoder().fit_transform(pd.Series(["a", None, "b"], index=[5, 3, 9])),
    names=("item 1", "index 3"),
)
add(
    "items",
    "Series with shuffled integer index and an int at label 9",
    "error",
    lambda: _text_encoder().fit_transform(pd.Series(["a", "b", 7], index=[5, 3, 9])),
    names=("item 2", "index 9", "astype(str)"),
)
add(
    "items",
    "Series with a MultiIndex and None in row 1",
    "error",
    lambda: _text_encoder().fit_transform(
        pd.Series(["a", None], index=pd.MultiIndex.from_tuples([("s1", 0), ("s1", 1)]))
    ),
    names=("item 1", "('s1', 1)"),
)


@case("items", "handled")
def case_pandas_series_with_duplicate_index():
    series = pd.Series(TEXTS, index=[0, 0, 0])
    _check_rows(_text_encoder().fit_transform(series), TEXTS, "a Series with index [0, 0, 0]")


@case("items", "handled")
def case_pandas_series_after_boolean_filter():
    series = pd.Series(["zzz", *TEXTS])[lambda s: s != "zzz"]  # index 1, 2, 3
    _check_rows(_text_encoder().fit_transform(series), TEXTS, "a filtered Series")


@case("items", "handled")
def case_pandas_categorical_series():
    series = pd.Series(TEXTS, dtype="category")
    _check_rows(_text_encoder().fit_transform(series), TEXTS, "a category Series")


@case("items", "handled")
def case_pandas_string_dtype_series():
    series = pd.Series(TEXTS, dtype="string")
    _check_rows(_text_encoder().fit_transform(series), TEXTS, "a string-dtype Series")


add(
    "items",
    "string-dtype Series with pd.NA in row 1",
    "error",
    lambda: _text_encoder().fit_transform(pd.Series(["a", None, "b"], dtype="string")),
    names=("item 1", "missing="),
)


@case("items", "handled")
def case_string_dtype_series_with_pd_na_and_missing_nan():
    got = _text_encoder(missing="nan").fit_transform(pd.Series(["a", None], dtype="string"))
    if got.shape != (2, DIM) or not np.isnan(got[1]).all() or not np.isfinite(got[0]).all():
        raise WrongResult(f"pd.NA with missing='nan': expected a NaN row 1, got {got[:, :2]}")


@case("items", "handled")
def case_pandas_index_object():
    _check_rows(_text_encoder().fit_transform(pd.Index(TEXTS)), TEXTS, "a pandas Index")


@case("items", "handled")
def case_pandas_categorical_object():
    _check_rows(_text_encoder().fit_transform(pd.Categorical(TEXTS)), TEXTS, "a Categorical")


@case("items", "handled")
def case_dataframe_with_one_column():
    encoder = _text_encoder()
    got = encoder.fit_transform(pd.DataFrame({"text": TEXTS}))
    _check_rows(got, TEXTS, "a one-column DataFrame")
    if list(getattr(encoder, "feature_names_in_", [])) != ["text"]:
        raise WrongResult("feature_names_in_ is not ['text'] after fit on df[['text']]")


@case("items", "handled")
def case_dataframe_with_an_integer_column_name():
    encoder = _text_encoder()
    got = encoder.fit_transform(pd.DataFrame({0: TEXTS}))
    _check_rows(got, TEXTS, "a DataFrame with column 0")
    if hasattr(encoder, "feature_names_in_"):
        raise WrongResult("feature_names_in_ set from a non-string column name")


add(
    "items",
    "DataFrame with two columns",
    "error",
    lambda: _text_encoder().fit_transform(pd.DataFrame({"text": TEXTS, "other": TEXTS})),
    names=("2 columns", "'other'", "ColumnTransformer"),
)
add(
    "items",
    "DataFrame with zero columns",
    "error",
    lambda: _text_encoder().fit_transform(pd.DataFrame(index=range(3))),
    names=("0 feature",),
)
add(
    "items",
    "fit on column 'text' then transform column 'other'",
    "error",
    lambda: (
        _text_encoder().fit(pd.DataFrame({"text": TEXTS})).transform(pd.DataFrame({"other": TEXTS}))
    ),
    names=("'text'", "'other'"),
)
add(
    "items",
    "DataFrame with None in row labelled 'b'",
    "error",
    lambda: _text_encoder().fit_transform(pd.DataFrame({"t": ["x", None]}, index=["a", "b"])),
    names=("item 1", "'b'"),
)


@case("items", "handled")
def case_fit_on_list_transform_on_dataframe():
    got = _text_encoder().fit(TEXTS).transform(pd.DataFrame({"text": TEXTS}))
    _check_rows(got, TEXTS, "fit on a list, transform a DataFrame")


@case("items", "handled")
def case_fit_on_dataframe_transform_on_list():
    got = _text_encoder().fit(pd.DataFrame({"text": TEXTS})).transform(TEXTS)
    _check_rows(got, TEXTS, "fit on a DataFrame, transform a list")


add(
    "items",
    "fit on an empty list",
    "error",
    lambda: _text_encoder().fit([]),
    names=("0 sample", "TextEncoder"),
)
add(
    "items",
    "fit on an empty Series",
    "error",
    lambda: _text_encoder().fit(pd.Series([], dtype=object)),
    names=("0 sample",),
)


@case("items", "handled")
def case_transform_of_an_empty_list_after_fit():
    got = _text_encoder().fit(TEXTS).transform([])
    if got.shape != (0, DIM) or got.dtype != np.float32:
        raise WrongResult(f"transform([]) gave {got.shape} {got.dtype}, expected (0, {DIM})")


@case("items", "handled")
def case_list_of_one_text():
    _check_rows(_text_encoder().fit_transform(["i am happy"]), ["i am happy"], "one text")


@case("items", "handled")
def case_deque_of_texts():
    got = _text_encoder().fit_transform(collections.deque(TEXTS))
    _check_rows(got, TEXTS, "a deque")


@case("items", "handled")
def case_dict_values_view():
    got = _text_encoder().fit_transform({i: t for i, t in enumerate(TEXTS)}.values())
    _check_rows(got, TEXTS, "dict.values()")


@case("items", "handled")
def case_duplicate_texts_get_equal_rows():
    got = _text_encoder().fit_transform(["i am happy", "i am sad", "i am happy"])
    if not np.array_equal(got[0], got[2]) or np.array_equal(got[0], got[1]):
        raise WrongResult("duplicate texts do not get equal rows (or distinct ones do)")


add(
    "items",
    "range of ints instead of texts",
    "error",
    lambda: _text_encoder().fit_transform(range(3)),
    names=("item 0", "int", "astype(str)"),
)


# --- missing values -----------------------------------------------------------------------

_MISSING = {
    "None": None,
    "float NaN": float("nan"),
    "np.float32 NaN": np.float32("nan"),
    "pd.NA": pd.NA,
    "pd.NaT": pd.NaT,
    "empty string": "",
    "blank string": "   ",
    "tabs and newlines": "\t\n\r\n",
    "no-break spaces": "\u00a0\u2003",
}


def _missing_cases(name, value):
    def error():
        _text_encoder().fit_transform(["i am happy", value])

    def filled(policy):
        def run():
            got = _text_encoder(missing=policy).fit_transform(["i am happy", value])
            if got.shape != (2, DIM):
                raise WrongResult(f"shape {got.shape}, expected (2, {DIM})")
            want = np.zeros(DIM) if policy == "zeros" else np.full(DIM, np.nan)
            if not np.array_equal(got[1], want, equal_nan=True):
                raise WrongResult(f"missing={policy!r}: row 1 is {got[1][:3]}..., not {policy}")
            if not np.array_equal(got[0], _reference("i am happy")):
                raise WrongResult("the present row changed beside a missing one")

        return run

    add("items", f"text {name} with missing='error'", "error", error, names=("item 1", "missing="))
    add("items", f"text {name} with missing='zeros'", "handled", filled("zeros"))
    add("items", f"text {name} with missing='nan'", "handled", filled("nan"))


for _name, _value in _MISSING.items():
    if _name != "None":  # "text None" is the example case above
        _missing_cases(_name, _value)


def _none_filled(policy):
    def run():
        got = _text_encoder(missing=policy).fit_transform(["i am happy", None])
        want = np.zeros(DIM) if policy == "zeros" else np.full(DIM, np.nan)
        if got.shape != (2, DIM) or not np.array_equal(got[1], want, equal_nan=True):
            raise WrongResult(f"None with missing={policy!r} gave row {got[1][:3]}")

    return run


add("items", "text None with missing='zeros'", "handled", _none_filled("zeros"))
add("items", "text None with missing='nan'", "handled", _none_filled("nan"))


@case("items", "handled")
def case_every_text_missing_with_missing_zeros():
    got = _text_encoder(missing="zeros").fit_transform([None, "", float("nan")])
    if got.shape != (3, DIM) or np.any(got != 0):
        raise WrongResult(f"all missing with missing='zeros' gave {got.shape}, not zeros")


@case("items", "handled")
def case_every_text_missing_with_missing_nan():
    got = _text_encoder(missing="nan").fit_transform([None, pd.NA])
    if got.shape != (2, DIM) or not np.isnan(got).all():
        raise WrongResult(f"all missing with missing='nan' gave {got.shape}, not NaN")


add(
    "items",
    "missing='drop' (not an option)",
    "error",
    lambda: _text_encoder(missing="drop").fit(TEXTS),
    names=("missing", "'drop'"),
)
add(
    "items",
    "missing=None",
    "error",
    lambda: _text_encoder(missing=None).fit(TEXTS),
    names=("missing", "None"),
)
add(
    "items",
    "set_params(missing='drop') after fit, then transform with None",
    "error",
    lambda: _text_encoder().fit(TEXTS).set_params(missing="drop").transform(["a", None]),
    names=("missing", "'drop'"),
)
add(
    "items",
    "np.datetime64 NaT as a text",
    "error",
    lambda: _text_encoder().fit_transform(["a", np.datetime64("NaT")]),
    names=("item 1",),
)
add(
    "items",
    "Decimal NaN as a text",
    "error",
    lambda: _text_encoder().fit_transform(["a", decimal.Decimal("NaN")]),
    names=("item 1", "Decimal"),
)
add(
    "items",
    "infinity as a text",
    "error",
    lambda: _text_encoder().fit_transform(["a", float("inf")]),
    names=("item 1", "float"),
)


# --- odd texts ----------------------------------------------------------------------------


@case("items", "handled")
def case_text_longer_than_the_model_limit_is_truncated():
    # The tiny model reads 64 word pieces: 300 and 100 words truncate to the same input.
    got = _text_encoder().fit_transform(["happy " * 300, "happy " * 100])
    if got.shape != (2, DIM) or not np.isfinite(got).all():
        raise WrongResult(f"a long text gave shape {got.shape} or non-finite values")
    if not np.allclose(got[0], got[1], atol=1e-6):
        raise WrongResult("two texts equal in their first 64 word pieces embed differently")


@case("items", "handled", timeout=60)
def case_text_of_100000_characters_without_spaces():
    got = _text_encoder().fit_transform(["a" * 100_000])
    if got.shape != (1, DIM) or not np.isfinite(got).all():
        raise WrongResult(f"a 100,000-character word gave {got.shape} or non-finite values")


def _unknown_only(name, texts):
    # Such texts all get one embedding (the unknown token's, or the empty text's): the
    # warning must say so ("... text(s) hold ... the same embedding / the embedding of").
    add(
        "items",
        f"text of {name} only warns that it embeds like others",
        "fallback",
        lambda: _text_encoder().fit_transform(["i am happy", *texts]),
        names=("text(s)", "embedding"),
    )


_unknown_only("NUL characters", ["\x00\x00"])
_unknown_only("U+FFFD replacement characters", ["\ufffd\ufffd"])
_unknown_only("control characters", ["\x07\x08\x1b"])
_unknown_only("zero-width spaces and joiners", ["\u200b\u200d\u200b"])
_unknown_only("combining accents", ["\u0301\u0301"])
_unknown_only("emoji", ["😍😍", "😡"])
_unknown_only("Thai", ["ฉันมีความสุข"])
_unknown_only("Hebrew (right to left)", ["אני שמח"])
_unknown_only("Arabic (right to left)", ["أنا سعيد"])
_unknown_only("Chinese", ["我很高兴"])
_unknown_only("full-width Latin letters", ["ｈａｐｐｙ"])


@case("items", "handled")
def case_emoji_texts_embed_alike_and_warn():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _text_encoder().fit_transform(["😍", "😡"])
    if not any("unknown" in str(w.message) for w in caught):
        raise WrongResult("two emoji-only texts embedded without the unknown-token warning")
    if not np.allclose(got[0], got[1], rtol=0, atol=1e-6):
        raise WrongResult("the warning says they embed alike, but they do not")


@case("items", "handled")
def case_words_with_one_emoji_do_not_warn():
    got = _no_warning(lambda: _text_encoder().fit_transform(["i am happy 😍"]))
    if not np.isfinite(got).all() or np.array_equal(got[0], _reference("i am happy")):
        raise WrongResult("the emoji beside known words changed nothing or gave non-finite")


add(
    "items",
    "text with a lone surrogate",
    "error",
    lambda: _text_encoder().fit_transform(["\ud800"]),
    names=("item 0", "surrogate"),
)
add(
    "items",
    "lone surrogate inside the second text",
    "error",
    lambda: _text_encoder().fit_transform(["i am happy", "sad \udcff face"]),
    names=("item 1", "surrogate", "replace"),
)
add(
    "items",
    "lone surrogate in a Series with index 'k'",
    "error",
    lambda: _text_encoder().fit_transform(
        pd.Series(["ok", "bad\udc80"], index=["j", "k"], dtype=object)
    ),
    names=("item 1", "'k'", "surrogate"),
)


def _same_as(name, text, plain):
    def run():
        got = _no_warning(lambda: _text_encoder().fit_transform([text]))
        if not np.allclose(got[0], _reference(plain), atol=1e-6):
            raise WrongResult(f"{text!r} embeds differently from {plain!r}")

    add("items", name, "handled", run)


_same_as("decomposed accent (NFD) embeds as the composed one", "cafe\u0301", "café")
_same_as("zero-width joiner inside a word is ignored", "ha\u200dppy", "happy")
_same_as("CRLF and CR newlines act as spaces", "i am\r\nhappy\rtoday", "i am happy today")
_same_as("tabs act as spaces", "i\tam\thappy", "i am happy")
_same_as("leading and trailing spaces are ignored", "   i am happy  \n", "i am happy")
_same_as("upper case embeds as lower case (uncased model)", "I AM HAPPY", "i am happy")
_same_as("NUL between words is dropped", "happy\x00", "happy")


@case("items", "handled")
def case_digits_and_punctuation_only_do_not_warn():
    got = _no_warning(lambda: _text_encoder().fit_transform(["12345", "!!!", "?"]))
    if got.shape != (3, DIM) or not np.isfinite(got).all():
        raise WrongResult(f"digits and punctuation gave {got.shape} or non-finite values")


@case("items", "handled")
def case_a_single_character_text():
    got = _no_warning(lambda: _text_encoder().fit_transform(["a"]))
    if got.shape != (1, DIM) or not np.isfinite(got).all():
        raise WrongResult("a one-letter text gave a bad row")


@case("items", "handled")
def case_many_short_texts_in_small_batches():
    texts = [TEXTS[i % 3] for i in range(200)]
    got = _text_encoder(batch_size=7).fit_transform(texts)
    _check_rows(got, texts, "200 texts in batches of 7", atol=1e-5)


# --- non-str items ------------------------------------------------------------------------

_NOT_TEXT = {
    "int": (3, "int"),
    "float": (1.5, "float"),
    "bool": (True, "bool"),
    "bytes": (b"i am happy", "bytes"),
    "Path": (Path("notes.txt"), "Path"),
    "numpy int64": (np.int64(4), "int64"),
    "complex": (1 + 2j, "complex"),
    "dict": ({"text": "hi"}, "dict"),
    "numpy array": (np.array(["hi"]), "ndarray"),
    "pd.Timestamp": (pd.Timestamp("2024-01-01"), "Timestamp"),
    "Decimal": (decimal.Decimal("1.5"), "Decimal"),
}
for _name, (_value, _type) in _NOT_TEXT.items():
    add(
        "items",
        f"a {_name} among the texts",
        "error",
        functools.partial(lambda v: _text_encoder().fit_transform(["i am happy", v]), _value),
        names=("item 1", _type),
    )


class _Label(str):
    """A str subclass, as some libraries hand out."""


@case("items", "handled")
def case_str_subclass_items():
    _check_rows(_text_encoder().fit_transform([_Label(t) for t in TEXTS]), TEXTS, "str subclass")


# --- parameters ---------------------------------------------------------------------------

_BAD_PARAMS = {
    "batch_size=0": ({"batch_size": 0}, ("batch_size", "0")),
    "batch_size=-1": ({"batch_size": -1}, ("batch_size", "-1")),
    "batch_size=1.5": ({"batch_size": 1.5}, ("batch_size", "1.5")),
    "batch_size='8'": ({"batch_size": "8"}, ("batch_size", "'8'")),
    "batch_size=None": ({"batch_size": None}, ("batch_size", "None")),
    "device='gpu'": ({"device": "gpu"}, ("device", "'gpu'")),
    "device='cuda:x'": ({"device": "cuda:x"}, ("device", "'cuda:x'")),
    "device='CPU' (upper case)": ({"device": "CPU"}, ("device", "'CPU'")),
    "device=''": ({"device": ""}, ("device", "''")),
    "device=None": ({"device": None}, ("device", "None")),
    "device='cuda:99' (no such GPU)": ({"device": "cuda:99"}, ("cuda:99", "device=")),
    "device='mps' without MPS": ({"device": "mps"}, ("mps", "device='cpu'")),
    "precision='int4'": ({"precision": "int4"}, ("precision", "'int4'")),
    "precision='fp16'": ({"precision": "fp16"}, ("precision", "'fp16'")),
    "precision='float16' on the CPU": ({"precision": "float16"}, ("float16", "precision=")),
    "precision='int8' with device='cuda'": (
        {"precision": "int8", "device": "cuda"},
        ("int8", "device='cpu'"),
    ),
    "precision='int8' with device='cuda:0'": (
        {"precision": "int8", "device": "cuda:0"},
        ("int8", "device='cpu'"),
    ),
    "precision='int8' with device='mps'": (
        {"precision": "int8", "device": "mps"},
        ("int8", "device='cpu'"),
    ),
    "normalize='yes'": ({"normalize": "yes"}, ("normalize", "'yes'")),
    "normalize=1": ({"normalize": 1}, ("normalize", "1")),
    "verbose='loud'": ({"verbose": "loud"}, ("verbose", "'loud'")),
    "cache=123": ({"cache": 123}, ("cache", "123")),
}


def _fit_with(params):
    from skemotion import TextEncoder

    encoder = TextEncoder(tiny_text_model(), **{"device": "cpu", "cache": False, **params})
    encoder.fit_transform(TEXTS)


for _name, (_params, _names) in _BAD_PARAMS.items():
    add(
        "items",
        f"TextEncoder({_name})",
        "error",
        functools.partial(_fit_with, _params),
        names=_names,
    )

add(
    "items",
    "set_params(batch_size=0) after fit, then transform",
    "error",
    lambda: _text_encoder().fit(TEXTS).set_params(batch_size=0).transform(TEXTS),
    names=("batch_size", "0"),
)
add(
    "items",
    "set_params(device='gpu') after fit, then transform",
    "error",
    lambda: _text_encoder().fit(TEXTS).set_params(device="gpu").transform(TEXTS),
    names=("device", "'gpu'"),
)
add(
    "items",
    "set_params(precision='int8', device='cuda') after fit, then transform",
    "error",
    lambda: _text_encoder().fit(TEXTS).set_params(precision="int8", device="cuda").transform(TEXTS),
    names=("int8", "device='cpu'"),
)


@case("items", "handled")
def case_batch_size_as_numpy_int():
    _check_rows(_text_encoder(batch_size=np.int64(2)).fit_transform(TEXTS), TEXTS, "np.int64", 1e-5)


@case("items", "handled")
def case_batch_size_of_one_billion():
    _check_rows(_text_encoder(batch_size=10**9).fit_transform(TEXTS), TEXTS, "huge batch", 1e-5)


@case("items", "handled")
def case_normalize_true_gives_unit_rows():
    got = _text_encoder(normalize=True).fit_transform(TEXTS)
    if not np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5):
        raise WrongResult("normalize=True rows are not of unit norm")


def _model_error(model):
    from skemotion import TextEncoder

    TextEncoder(model, device="cpu", cache=False).fit_transform(TEXTS)


def _a_text_file():
    path = scratch() / "model.txt"
    path.write_text("not a model\n")
    return path


def _an_empty_folder():
    return scratch() / "empty-model"


def _garbage_model_folder():
    folder = scratch() / "broken-model"
    folder.mkdir()
    (folder / "config.json").write_text("{ not json")
    (folder / "modules.json").write_text("[]")
    return folder


add(
    "items",
    "model='' (empty name)",
    "error",
    lambda: _model_error(""),
    names=("model=''", "local model folder"),
)
add(
    "items",
    "model is a text file",
    "error",
    lambda: _model_error(str(_a_text_file())),
    names=("model.txt", "folder"),
)
add(
    "items",
    "model is a nonexistent folder",
    "error",
    lambda: _model_error("/nonexistent/skemotion-model"),
    names=("/nonexistent/skemotion-model", "folder"),
)


@case("items", "error", names=("empty-model", "SentenceTransformer.save"))
def case_model_is_an_empty_folder():
    folder = _an_empty_folder()
    folder.mkdir()
    _model_error(str(folder))


@case("items", "error", names=("broken-model", "folder"))
def case_model_folder_with_a_corrupt_config():
    _model_error(str(_garbage_model_folder()))


@case("items", "error", names=("image.png", "folder"))
def case_model_is_an_image_file():
    _model_error(str(write_image()))


add("items", "model=None", "error", lambda: _model_error(None), names=("model", "None"))
add(
    "items",
    "model as a pathlib.Path",
    "error",
    lambda: _model_error(Path(tiny_text_model())),
    names=("model", "str"),
)


# --- the scikit-learn API -----------------------------------------------------------------

add(
    "items",
    "transform before fit",
    "error",
    lambda: _text_encoder().transform(TEXTS),
    names=("not fitted", "fit"),
)
add(
    "items",
    "get_feature_names_out before fit",
    "error",
    lambda: _text_encoder().get_feature_names_out(),
    names=("not fitted", "fit"),
)


@case("items", "handled")
def case_get_feature_names_out_after_fit():
    names = _text_encoder().fit(TEXTS).get_feature_names_out()
    want = [f"text_{i:03d}" for i in range(DIM)]
    if list(names) != want:
        raise WrongResult(f"feature names {list(names)[:3]}..., expected {want[:3]}...")


@case("items", "handled")
def case_set_output_pandas_keeps_the_series_index():
    series = pd.Series(TEXTS, index=["x", "y", "z"])
    got = _text_encoder().set_output(transform="pandas").fit_transform(series)
    if not isinstance(got, pd.DataFrame) or got.shape != (3, DIM):
        raise WrongResult(f"set_output('pandas') gave {type(got).__name__} {np.shape(got)}")
    if list(got.index) != ["x", "y", "z"] or list(got.columns)[:2] != ["text_000", "text_001"]:
        raise WrongResult(f"index {list(got.index)} or columns {list(got.columns)[:2]} wrong")
    _check_rows(got.to_numpy(), TEXTS, "set_output('pandas')")


@case("items", "handled")
def case_set_output_pandas_on_a_list():
    got = _text_encoder().set_output(transform="pandas").fit_transform(TEXTS)
    if not isinstance(got, pd.DataFrame) or got.shape != (3, DIM):
        raise WrongResult(f"set_output('pandas') on a list gave {type(got).__name__}")
    if list(got.index) != [0, 1, 2]:
        raise WrongResult(f"index {list(got.index)}, expected a RangeIndex")


@case("items", "handled")
def case_set_output_pandas_with_missing_nan_rows():
    got = _text_encoder(missing="nan").set_output(transform="pandas").fit_transform(["a", None])
    if not isinstance(got, pd.DataFrame) or not got.iloc[1].isna().all():
        raise WrongResult("missing='nan' row is not NaN in the pandas output")


@case("items", "handled")
def case_pickled_fitted_encoder_transforms_alike():
    encoder = _text_encoder().fit(TEXTS)
    again = pickle.loads(pickle.dumps(encoder))
    _check_rows(again.transform(TEXTS), TEXTS, "an unpickled encoder")


@case("items", "handled")
def case_pickled_unfitted_encoder_fits_and_transforms():
    again = pickle.loads(pickle.dumps(_text_encoder()))
    _check_rows(again.fit_transform(TEXTS), TEXTS, "an unpickled unfitted encoder")


@case("items", "handled")
def case_pickle_carries_no_weights():
    encoder = _text_encoder().fit(TEXTS)
    encoder.transform(TEXTS)  # the model is loaded
    size = len(pickle.dumps(encoder))
    if size > 20_000:
        raise WrongResult(f"a fitted encoder pickles to {size} bytes: weights travel")


@case("items", "handled")
def case_clone_of_a_fitted_encoder_is_unfitted_with_equal_params():
    from sklearn.base import clone

    encoder = _text_encoder(batch_size=3).fit(TEXTS)
    copy_ = clone(encoder)
    if hasattr(copy_, "n_features_in_") or copy_.get_params() != encoder.get_params():
        raise WrongResult("clone() kept fitted state or changed parameters")
    _check_rows(copy_.fit_transform(TEXTS), TEXTS, "a clone", atol=1e-5)


@case("items", "handled")
def case_deepcopy_of_a_fitted_encoder():
    encoder = _text_encoder().fit(TEXTS)
    _check_rows(copy.deepcopy(encoder).transform(TEXTS), TEXTS, "a deep copy")


@case("items", "handled")
def case_fit_with_a_y_of_another_length_is_ignored():
    _check_rows(_text_encoder().fit(TEXTS, y=[0]).transform(TEXTS), TEXTS, "fit with odd y")


# --- segments -----------------------------------------------------------------------------


def _segment(*args):
    from skemotion import Segment

    return Segment(*args)


def _audio_encoder(**params):
    from skemotion import AudioEncoder

    return AudioEncoder(tiny_audio_model(), device="cpu", cache=False, **params)


@functools.cache
def _wav():
    return write_wav(seconds=1.0)


@functools.cache
def _video():
    """A 1 s video of 10 frames, 96 x 96 (written once per process)."""
    from _videos import write_video

    faces = [np.full((48, 48), 60 + 20 * k, np.uint8) for k in range(3)]
    return write_video(scratch() / "clip.mp4", faces, fps=10, side=64, seconds=1.0)


def _face_encoder(**params):
    from skemotion import FaceEncoder

    return FaceEncoder(device="cpu", cache=False, **params)


def _image_encoder():
    from _tiny_models import tiny_clip_model

    from skemotion import ImageEncoder

    return ImageEncoder(tiny_clip_model(), pretrained=None, device="cpu", cache=False)


_BAD_BOUNDS = {
    "start after end": (0.8, 0.2, ("item 0", "start < end")),
    "start equal to end": (0.5, 0.5, ("item 0", "start < end")),
    "negative start": (-0.5, 0.5, ("item 0", "0 <= start")),
    "NaN start": (float("nan"), 0.5, ("item 0", "finite")),
    "NaN end": (0.0, float("nan"), ("item 0", "finite")),
    "infinite end": (0.0, float("inf"), ("item 0", "finite")),
    "None bounds": (None, None, ("item 0", "seconds")),
    "text bounds": ("start", "end", ("item 0", "seconds")),
}
for _name, (_start, _end, _names) in _BAD_BOUNDS.items():
    add(
        "items",
        f"audio Segment with {_name}",
        "error",
        functools.partial(
            lambda s, e: _audio_encoder().fit_transform([_segment(str(_wav()), s, e)]),
            _start,
            _end,
        ),
        names=_names,
    )
    add(
        "items",
        f"video Segment with {_name} (FaceEncoder)",
        "error",
        functools.partial(
            lambda s, e: _face_encoder().fit_transform([_segment(str(_video()), s, e)]),
            _start,
            _end,
        ),
        names=_names,
    )


@case("items", "error", names=("item 0", "end of"))
def case_audio_segment_ending_after_the_recording():
    _audio_encoder().fit_transform([_segment(str(_wav()), 0.5, 3.0)])


@case("items", "error", names=("item 0", "end of"), timeout=60)
def case_video_segment_ending_after_the_recording_faceencoder():
    _face_encoder().fit_transform([_segment(str(_video()), 0.5, 3.0)])


@case("items", "error", names=("item 0", "end of"), timeout=60)
def case_video_segment_ending_after_the_recording_imageencoder():
    _image_encoder().fit_transform([_segment(str(_video()), 0.5, 3.0)])


@case("items", "error", names=("item 0", "end"), timeout=60)
def case_video_segment_wholly_after_the_recording_faceencoder():
    _face_encoder().fit_transform([_segment(str(_video()), 5.0, 6.0)])


@case("items", "error", names=("item 0", "end"))
def case_audio_segment_wholly_after_the_recording():
    _audio_encoder().fit_transform([_segment(str(_wav()), 5.0, 6.0)])


@case("items", "handled", timeout=60)
def case_video_segment_within_the_recording_faceencoder():
    got = _face_encoder().fit_transform([_segment(str(_video()), 0.1, 0.6)])
    if got.shape != (1, 7) or not np.allclose(got.sum(axis=1), 1.0, atol=1e-4):
        raise WrongResult(f"a valid video segment gave {got.shape} / sums {got.sum(axis=1)}")


@case("items", "handled")
def case_audio_segment_with_numpy_float_bounds():
    segment = _segment(str(_wav()), np.float32(0.25), np.float64(0.75))
    got = _audio_encoder().fit_transform([segment])
    want = _audio_encoder().fit_transform([_segment(str(_wav()), 0.25, 0.75)])
    if not np.allclose(got, want, atol=1e-6):
        raise WrongResult("numpy float bounds give another row than Python floats")


add(
    "items",
    "Segment given to TextEncoder",
    "error",
    lambda: _text_encoder().fit_transform([_segment("i am happy", 0.0, 1.0)]),
    names=("item 0", "Segment"),
)
add(
    "items",
    "Segment of a nonexistent audio file",
    "error",
    lambda: _audio_encoder().fit_transform([_segment("/nonexistent/clip.wav", 0.0, 1.0)]),
    names=("item 0", "/nonexistent/clip.wav"),
)
add(
    "items",
    "Segment whose source is a number",
    "error",
    lambda: _audio_encoder().fit_transform([_segment(42, 0.0, 1.0)]),
    names=("item 0", "int"),
)
add(
    "items",
    "Segment of a picture file (FaceEncoder)",
    "error",
    lambda: _face_encoder().fit_transform([_segment(str(write_image()), 0.0, 1.0)]),
    names=("image.png", "video"),
)
add(
    "items",
    "Segment of a picture file (ImageEncoder)",
    "error",
    lambda: _image_encoder().fit_transform([_segment(str(write_image()), 0.0, 1.0)]),
    names=("image.png", "video"),
)
add(
    "items",
    "plain tuple (path, start, end) to AudioEncoder",
    "error",
    lambda: _audio_encoder().fit_transform([(str(_wav()), 0.0, 0.5)]),
    names=("item 0", "tuple"),
)
add(
    "items",
    "plain tuple (path, start, end) to FaceEncoder",
    "error",
    lambda: _face_encoder().fit_transform([(str(_video()), 0.0, 0.5)]),
    names=("item 0", "tuple"),
)


# --- through an embedding cache (item keys) -------------------------------------------------


def _cached_text_encoder(**params):
    from skemotion import TextEncoder

    cache = str(scratch() / "cache.sqlite")
    return TextEncoder(tiny_text_model(), device="cpu", cache=cache, **params)


@case("items", "handled")
def case_cached_rows_equal_uncached_rows_for_odd_texts():
    texts = ["i am happy", "cafe\u0301", "happy " * 300, "i am happy"]
    encoder = _cached_text_encoder()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first, second = encoder.fit_transform(texts), encoder.transform(texts)
        plain = _text_encoder().fit_transform(texts)
    if not (np.array_equal(first, second) and np.allclose(first, plain, rtol=0, atol=1e-5)):
        raise WrongResult("odd texts read back from the cache differ from their encoding")


@case("items", "handled")
def case_cached_missing_nan_rows_stay_nan_on_a_warm_cache():
    encoder = _cached_text_encoder(missing="nan")
    encoder.fit_transform(["i am happy", None, ""])
    got = encoder.transform(["i am happy", None, ""])
    if not (np.isnan(got[1:]).all() and np.isfinite(got[0]).all()):
        raise WrongResult("missing rows on a warm cache are not NaN (or the present row is)")


add(
    "items",
    "lone surrogate with a cache",
    "error",
    lambda: _cached_text_encoder().fit_transform(["ok", "bad\ud800"]),
    names=("item 1", "surrogate"),
)
add(
    "items",
    "Segment of a nonexistent audio file with a cache",
    "error",
    lambda: (
        __import__("skemotion")
        .AudioEncoder(tiny_audio_model(), device="cpu", cache=str(scratch() / "c.sqlite"))
        .fit_transform([_segment("/nonexistent/clip.wav", 0.0, 1.0)])
    ),
    names=("item 0", "/nonexistent/clip.wav"),
)


@case("items", "handled")
def case_cached_segments_of_one_file_get_their_own_rows():
    from skemotion import AudioEncoder

    encoder = AudioEncoder(tiny_audio_model(), device="cpu", cache=str(scratch() / "c.sqlite"))
    segments = [_segment(str(_wav()), 0.0, 0.5), _segment(str(_wav()), 0.5, 1.0)]
    got = encoder.fit_transform(segments)
    if np.allclose(got[0], got[1]):
        raise WrongResult("two segments of one file share one cached row")
    again = encoder.transform(segments[::-1])
    if not np.array_equal(again, got[::-1]):
        raise WrongResult("segments read back from the cache are not in their rows")
