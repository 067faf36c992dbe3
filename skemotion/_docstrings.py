"""Parameter descriptions that several estimators share, written once.

As imbalanced-learn's ``Substitution``: a docstring holds ``%(device)s`` where the
shared text goes, and the decorator fills it in when the class is defined, so the
docstring users read (``help``, the API reference, numpydoc) is whole.
"""

import re

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class Substitution:
    """Fill the ``%(name)s`` placeholders of a docstring with the given texts.

    Only placeholders are touched (other ``%`` signs stay as written); a placeholder
    without a text raises, so a typo cannot leave one in a published docstring.
    """

    def __init__(self, **texts):
        self.texts = texts

    def __call__(self, obj):
        if obj.__doc__:
            obj.__doc__ = _PLACEHOLDER.sub(self._text, obj.__doc__)
        return obj

    def _text(self, match):
        name = match.group(1)
        if name not in self.texts:
            raise KeyError(f"no shared text for the docstring placeholder %({name})s")
        return self.texts[name]


# Each text starts at a parameter line and indents its description by 8 spaces, as the
# numpydoc Parameters section of a class docstring does.
ENCODER_PARAMETERS = {
    "device": """device : str, default="auto"
        ``"auto"`` picks cuda, then mps, then cpu when the model loads; or name one
        (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).""",
    "precision": """precision : {"auto", "float32", "float16", "bfloat16"}, default="auto"
        Weights' precision; ``"auto"`` is float16 on cuda and float32 elsewhere.
        The output is float32 in every case.""",
    "cache": """cache : None, False, str, path-like or EmbeddingCache, default=None
        Embedding cache: an SQLite file or folder, or an :class:`EmbeddingCache`.
        None uses the global default (:func:`skemotion.set_config`), False none.""",
    "verbose": """verbose : bool or int, default=False
        Show a progress bar when there are more than two batches to encode.""",
}

substitute_encoder_parameters = Substitution(**ENCODER_PARAMETERS)
