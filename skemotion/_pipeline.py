"""make_multimodal_pipeline: per-modality encoders, optional speaker normalisation and
sampler, a fusion step."""

from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline

from ._optional import import_optional_dependency
from ._speaker import SpeakerNormalizer

# The ColumnTransformer's name for the speaker column it passes through.
SPEAKER_STEP = "speaker"


def make_multimodal_pipeline(encoders, fusion, *, speaker=None, sampler=None, cache=None):
    """Build ``encoders -> [speaker normalisation ->] [sampler ->] fusion``.

    Parameters
    ----------
    encoders : dict
        One entry per modality. The key is the modality's name; the value is either an
        encoder (a transformer), which reads the input column of the same name
        (``{"text": TextEncoder()}``), or an ``(encoder, columns)`` pair as in
        :func:`~sklearn.compose.make_column_transformer`
        (``{"audio": (AudioFeatures(), "wav_path")}``,
        ``{"face": ("passthrough", au_columns)}`` for precomputed feature columns).
    fusion : estimator
        The last step: a fusion classifier (:class:`LateFusionClassifier`,
        :class:`AttentionFusionClassifier`), or a ``Pipeline`` such as
        ``make_pipeline(EarlyFusion(), LogisticRegression())``.
    speaker : str or None, default=None
        The input column holding each row's speaker (actor, subject) id. When given,
        the column passes through the encoders and a :class:`SpeakerNormalizer` step
        standardises every modality's features within each speaker, then drops it, so
        the fusion step sees speaker-normalised features only. A speaker not seen in
        ``fit`` is normalised from their own rows in the data being predicted: predict
        a new speaker's clips together (see :class:`SpeakerNormalizer`). Its options
        are the step's parameters (``speaker__min_samples``, ``speaker__with_std``).
    sampler : imbalanced-learn sampler or None, default=None
        Placed after the encoders (samplers resample in ``fit`` only); the result is then
        an :class:`imblearn.pipeline.Pipeline`. Samplers such as SMOTE do not accept NaN,
        so they cannot be combined with missing modalities in the training data.
    cache : None, False, str, path-like or EmbeddingCache, default=None
        When not None, set as the ``cache`` of every encoder that has a ``cache``
        parameter (on a clone: the encoders passed in are not changed). None leaves each
        encoder's own setting.

    Returns
    -------
    pipeline : Pipeline or imblearn.pipeline.Pipeline
        Steps ``"encoders"`` (a :class:`~sklearn.compose.ColumnTransformer`, output
        set to pandas), optionally ``"speaker"`` (a :class:`SpeakerNormalizer`) and
        ``"sampler"``, and ``"fusion"``.

    Notes
    -----
    The ``ColumnTransformer`` names its output columns ``<modality>__<feature>``
    (``verbose_feature_names_out=True``) and outputs a DataFrame, so the fusion step
    finds each modality's columns from their names, after a sampler too (imbalanced-
    learn samplers return a DataFrame with the same columns). Every encoder must
    therefore give dense output and implement ``get_feature_names_out``. Tune the
    modality weights as ``fusion__weights`` (or ``fusion__<step>__weights`` when the
    fusion step is itself a pipeline).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skemotion import LateFusionClassifier, make_multimodal_pipeline
    >>> df = pd.DataFrame({"au_1": [0.1, 0.9, 0.2, 0.8], "au_2": [0, 1, 0, 1],
    ...                    "pitch": [100, 200, 110, 190]})
    >>> pipe = make_multimodal_pipeline(
    ...     {"face": ("passthrough", ["au_1", "au_2"]), "audio": ("passthrough", ["pitch"])},
    ...     fusion=LateFusionClassifier(LogisticRegression()))
    >>> pipe.fit(df, [0, 1, 0, 1]).named_steps["fusion"].modalities_
    {'face': array([0, 1]), 'audio': array([2])}

    With each row's speaker in a column, every modality is normalised per speaker:

    >>> df["actor"] = ["ann", "ann", "bob", "bob"]
    >>> pipe = make_multimodal_pipeline(
    ...     {"face": ("passthrough", ["au_1", "au_2"]), "audio": ("passthrough", ["pitch"])},
    ...     fusion=LateFusionClassifier(LogisticRegression()), speaker="actor")
    >>> list(pipe.fit(df, [0, 1, 0, 1]).named_steps)
    ['encoders', 'speaker', 'fusion']
    """
    if not isinstance(encoders, dict) or not encoders:
        raise ValueError(
            "The 'encoders' parameter of make_multimodal_pipeline must be a non-empty dict "
            f"{{modality: encoder or (encoder, columns)}}. Got {encoders!r} instead."
        )
    transformers = []
    for modality, spec in encoders.items():
        if not isinstance(modality, str) or not modality or "__" in modality:
            raise ValueError(
                "make_multimodal_pipeline: modality names must be non-empty strings "
                f"without '__' (the separator of output feature names). Got {modality!r}."
            )
        if isinstance(spec, tuple):
            if len(spec) != 2:
                raise ValueError(
                    f"make_multimodal_pipeline: encoders[{modality!r}] must be an encoder or "
                    f"an (encoder, columns) pair. Got a tuple of length {len(spec)}."
                )
            encoder, columns = spec
        else:
            encoder, columns = spec, modality
        if speaker is not None and modality == SPEAKER_STEP:
            raise ValueError(
                f"make_multimodal_pipeline: with speaker={speaker!r}, no modality may be "
                f"named {SPEAKER_STEP!r} (the name of the speaker column's step). Rename it."
            )
        if cache is not None and not isinstance(encoder, str):
            if "cache" in encoder.get_params(deep=False):
                encoder = clone(encoder).set_params(cache=cache)
        transformers.append((modality, encoder, columns))
    steps = []
    if speaker is not None:
        if not isinstance(speaker, str) or not speaker:
            raise ValueError(
                "The 'speaker' parameter of make_multimodal_pipeline must be the name of "
                f"the input column holding the speaker ids, or None. Got {speaker!r} instead."
            )
        transformers.append((SPEAKER_STEP, "passthrough", SpeakerColumn(speaker)))
        normalizer = SpeakerNormalizer(f"{SPEAKER_STEP}__{speaker}")
        steps.append(("speaker", normalizer.set_output(transform="pandas")))
    column_transformer = ColumnTransformer(
        transformers, remainder="drop", verbose_feature_names_out=True
    ).set_output(transform="pandas")
    steps.insert(0, ("encoders", column_transformer))
    if sampler is None:
        return Pipeline([*steps, ("fusion", fusion)])
    imblearn_pipeline = import_optional_dependency(
        "imblearn.pipeline", extra="imbalanced", caller="make_multimodal_pipeline(sampler=...)"
    )
    return imblearn_pipeline.Pipeline([*steps, ("sampler", sampler), ("fusion", fusion)])


class SpeakerColumn:
    """The speaker column's selector in the ColumnTransformer: ``[name]``, checked.

    Where X lacks the column, scikit-learn says only "Some column names are not columns
    of the dataframe"; this names the pipeline's ``speaker=`` and the columns X has. A
    class, not a lambda, so that the pipeline pickles.
    """

    def __init__(self, name):
        self.name = name

    def __call__(self, X):
        columns = list(getattr(X, "columns", []))
        if self.name not in columns:
            shown = ", ".join(map(repr, columns[:8])) + (", ..." if len(columns) > 8 else "")
            raise ValueError(
                f"make_multimodal_pipeline(speaker={self.name!r}): X has no column "
                f"{self.name!r} for the speakers (its columns: {shown or 'none'}). Pass a "
                "DataFrame with that column, or speaker= the column of each row's speaker."
            )
        return [self.name]

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"
