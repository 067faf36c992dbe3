"""Bad items for the encoders: containers, texts, missing values, segments."""

import numpy as np

from ._fixtures import tiny_text_model
from ._registry import WrongResult, add, case


def _text_encoder(**params):
    from skemotion import TextEncoder

    return TextEncoder(tiny_text_model(), device="cpu", cache=False, **params)


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
