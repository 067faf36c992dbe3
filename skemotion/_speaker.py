"""SpeakerNormalizer: standardise features within each speaker, from the speaker's own rows."""

from numbers import Integral, Number

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._features import describe_columns, infinite_columns, text_columns
from ._nanstats import nan_mean_var, std_or_one
from ._sklearn_compat import DocLinkMixin, Interval, _check_feature_names_in, _fit_context


class SpeakerNormalizer(DocLinkMixin, TransformerMixin, BaseEstimator):
    """Standardise every feature within each speaker, from that speaker's own rows.

    Voices and faces differ between people more than one person's emotions differ
    from each other: a loud speaker's "sad" can be louder than a quiet speaker's
    "angry". Centring (and scaling) each feature per speaker removes most of that, so
    a classifier sees how a clip differs from the speaker's usual self. The statistics
    use no labels: they come from the speaker's rows in the training data at ``fit``,
    and, for a speaker not seen in ``fit``, from that speaker's rows in the data given
    to ``transform`` (unlabelled clips of the new speaker). The speaker id is a column
    of X, so the step works unchanged in ``Pipeline``, ``ColumnTransformer``,
    ``cross_val_score`` and ``GridSearchCV``; it is dropped from the output.

    Parameters
    ----------
    speaker : str or int, default="speaker"
        The column of X that holds each row's speaker (actor, subject) id: a column
        name for a DataFrame, or a column position (also for numpy input). Ids may be
        numbers or strings; a missing id is an error.
    with_mean : bool, default=True
        Subtract each speaker's mean.
    with_std : bool, default=True
        Divide by each speaker's standard deviation. False centres only.
    min_samples : int, default=5
        How many rows a speaker needs for statistics of their own. A speaker with
        ``n < min_samples`` values of a feature gets that feature's statistics shrunk
        towards the training population's: mean and variance are
        ``n / min_samples`` of the speaker's own plus the rest of the population's.
        ``min_samples=1`` uses every speaker's own statistics, however few rows. The
        default lets the actors of the demo's RAVDESS sample (8 clips each) use their
        own statistics: shrinking them (``min_samples=10``) lowered the demo's scores.

    Attributes
    ----------
    speakers_ : ndarray of shape (n_speakers,)
        The speaker ids seen in ``fit``.
    speaker_mean_ : ndarray of shape (n_speakers, n_features_out)
        Mean subtracted for each speaker seen in ``fit`` (after shrinkage; zeros with
        ``with_mean=False``).
    speaker_scale_ : ndarray of shape (n_speakers, n_features_out)
        Scale divided by for each speaker seen in ``fit`` (after shrinkage; ones with
        ``with_std=False``).
    speaker_count_ : ndarray of shape (n_speakers, n_features_out)
        Number of rows with a (non-NaN) value, per speaker and feature.
    mean_ : ndarray of shape (n_features_out,)
        Mean of each feature over all training rows: the shrinkage target.
    var_ : ndarray of shape (n_features_out,)
        Variance of each feature over all training rows: the shrinkage target.
    n_features_in_ : int
        Number of input columns, the speaker column included.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Input column names, when fitted on a DataFrame with string column names.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same for the whole population at once.
    make_multimodal_pipeline : ``speaker="actor"`` puts this step after the encoders.

    Notes
    -----
    How a new speaker is adapted: their rows in the data passed to ``transform`` (or
    ``predict``) give their statistics, so predict a new speaker's clips together,
    ideally five or more (``min_samples``), of a mix of emotions, as a speaker's
    recordings usually are. With fewer rows their statistics are shrunk towards the
    training population's; with a single row the result is close to a plain
    population standardisation (``StandardScaler``), not an adaptation. A speaker seen
    in ``fit`` keeps the statistics learned there, so transforming any subset of the
    training data gives the same rows as transforming all of it.

    NaN values (a missing modality) are left out of the statistics and stay NaN in the
    output, for the fusion step to treat as missing.

    Examples
    --------
    >>> import pandas as pd
    >>> from skemotion import SpeakerNormalizer
    >>> X = pd.DataFrame({"speaker": ["ann", "ann", "bob", "bob"],
    ...                   "pitch": [200.0, 220.0, 100.0, 120.0]})
    >>> SpeakerNormalizer(min_samples=1).fit_transform(X)
    array([[-1.],
           [ 1.],
           [-1.],
           [ 1.]])
    >>> new = pd.DataFrame({"speaker": ["eve", "eve"], "pitch": [300.0, 340.0]})
    >>> SpeakerNormalizer(min_samples=1).fit(X).transform(new)  # from eve's own rows
    array([[-1.],
           [ 1.]])
    """

    _parameter_constraints = {
        "speaker": [str, Integral],
        "with_mean": ["boolean"],
        "with_std": ["boolean"],
        "min_samples": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, speaker="speaker", *, with_mean=True, with_std=True, min_samples=5):
        self.speaker = speaker
        self.with_mean = with_mean
        self.with_std = with_std
        self.min_samples = min_samples

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn each training speaker's statistics and the population's.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The features and the speaker column; NaN marks a missing value.
        y : None
            Ignored: the statistics use no labels.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        ids, values = self._split(X, reset=True)
        self.mean_, self.var_, _ = nan_mean_var(values)
        self.speakers_, codes = _factorize(ids)
        self.speaker_mean_, self.speaker_scale_, self.speaker_count_ = self._statistics(
            values, codes, len(self.speakers_)
        )
        return self

    def transform(self, X):
        """Standardise each row with its speaker's statistics; drop the speaker column.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The features and the speaker column. Speakers not seen in ``fit`` are
            standardised with statistics of their own rows here.

        Returns
        -------
        X_normalised : ndarray of shape (n_samples, n_features - 1)
            The features in input order without the speaker column; NaN stays NaN.
        """
        check_is_fitted(self)
        ids, values = self._split(X, reset=False)
        known = {speaker: k for k, speaker in enumerate(self.speakers_)}
        codes = np.array([known.get(speaker, -1) for speaker in ids], dtype=np.intp)
        mean = np.empty_like(values)
        scale = np.empty_like(values)
        seen = codes >= 0
        mean[seen], scale[seen] = self.speaker_mean_[codes[seen]], self.speaker_scale_[codes[seen]]
        if not seen.all():
            new_speakers, new_codes = _factorize(ids[~seen])
            new_mean, new_scale, _ = self._statistics(values[~seen], new_codes, len(new_speakers))
            mean[~seen], scale[~seen] = new_mean[new_codes], new_scale[new_codes]
        return (values - mean) / scale

    def get_feature_names_out(self, input_features=None):
        """The input column names without the speaker column.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Input names; defaults to ``feature_names_in_`` or ``x0, x1, ...``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            The input names, the speaker column left out.
        """
        check_is_fitted(self)
        names = _check_feature_names_in(self, input_features)
        return np.delete(np.asarray(names, dtype=object), self._speaker_position)

    # --- helpers ---------------------------------------------------------------------------

    def _split(self, X, *, reset):
        """(speaker ids, float64 features without the speaker column) of X."""
        if not hasattr(X, "iloc"):
            X = check_array(X, dtype=None, ensure_all_finite=False)
        if X.shape[1] < 2:
            raise ValueError(
                f"SpeakerNormalizer got X with {X.shape[1]} column(s): it needs the speaker "
                "column and at least one feature column beside it. Pass the features with "
                f"the speaker column (speaker={self.speaker!r})."
            )
        validate_data(self, X, reset=reset, skip_check_array=True)
        position = self._position(X)
        if reset:
            self._speaker_position = position
        if hasattr(X, "iloc"):
            ids = X.iloc[:, position].to_numpy()
            # By position: dropping by label looks the (string) column index up.
            rest = X.iloc[:, np.delete(np.arange(X.shape[1]), position)]
        else:
            ids, rest = X[:, position], np.delete(X, position, axis=1)
        _check_ids(ids)
        try:
            values = check_array(
                _plain_numbers(rest), dtype=np.float64, ensure_all_finite="allow-nan",
                ensure_min_samples=1, input_name="X (without the speaker column)",
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            if "infinity" in str(exc):
                raise ValueError(
                    f"SpeakerNormalizer: X has infinite values in "
                    f"{describe_columns(infinite_columns(rest), named=hasattr(rest, 'columns'))}. "
                    "NaN marks a missing value; replace inf with NaN or a finite value."
                ) from exc
            columns = text_columns(rest)
            if not columns:
                raise
            shown = describe_columns(columns, named=hasattr(rest, "columns"))
            raise ValueError(
                f"SpeakerNormalizer: X has column(s) of text besides the speaker column "
                f"{self.speaker!r} ({shown}): it standardises numeric features. Drop them, "
                "or name the speaker column with speaker=."
            ) from exc
        return ids, values

    def _position(self, X):
        """The position of the speaker column in X, or an error that says how to name it."""
        columns = list(X.columns) if hasattr(X, "columns") else None
        if columns is not None and self.speaker in columns:
            return columns.index(self.speaker)
        n_columns = X.shape[1]
        if isinstance(self.speaker, Integral) and -n_columns <= self.speaker < n_columns:
            return int(self.speaker) % n_columns
        if isinstance(self.speaker, Integral):
            raise ValueError(
                f"SpeakerNormalizer: speaker={self.speaker} is out of range for X's "
                f"{n_columns} columns: pass the speaker column's position (0 to "
                f"{n_columns - 1}){', or its name' if columns is not None else ''}."
            )
        if columns is None:
            raise ValueError(
                f"SpeakerNormalizer: speaker={self.speaker!r} names a column, but X has no "
                f"column names (numpy input). Pass a DataFrame, or the column's position "
                f"(speaker=0 for the first of the {n_columns} columns)."
            )
        shown = ", ".join(repr(c) for c in columns[:8])
        raise ValueError(
            f"SpeakerNormalizer: X has no column {self.speaker!r} for the speaker id (its "
            f"columns: {shown}{', ...' if len(columns) > 8 else ''}). Pass speaker=<the "
            "column holding each row's speaker>."
        )

    def _statistics(self, values, codes, n_speakers):
        """Per-speaker (mean, scale, count) arrays, shrunk towards the population's."""
        own_mean, own_var, count = nan_mean_var(values, codes, n_speakers)
        trust = np.minimum(count / self.min_samples, 1.0)
        mean = trust * own_mean + (1 - trust) * self.mean_
        var = trust * own_var + (1 - trust) * self.var_
        scale = std_or_one(var)
        if not self.with_mean:
            mean = np.zeros_like(mean)
        if not self.with_std:
            scale = np.ones_like(scale)
        return mean, scale, count

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


def _check_ids(ids):
    """Every row needs a speaker id, and an id must be a string or a number."""
    missing = pd.isna(ids)
    if missing.any():
        rows = np.flatnonzero(missing)
        raise ValueError(
            f"SpeakerNormalizer: the speaker id is missing in {rows.size} row(s) "
            f"(first: row {rows[0]}). Give every row its speaker, or drop those rows."
        )
    if ids.dtype == object:
        wrong = [k for k, i in enumerate(ids) if not isinstance(i, (str, Number, np.generic))]
        if wrong:
            value = ids[wrong[0]]
            raise TypeError(
                f"SpeakerNormalizer: the speaker id of row {wrong[0]} is a "
                f"{type(value).__name__} ({value!r}); the argument must be a string or a "
                "number (one id per speaker)."
            )


def _factorize(ids):
    """(distinct ids, sorted where they can be; the code of each row's id)."""
    try:
        codes, uniques = pd.factorize(ids, sort=True)
    except TypeError:  # ids of mixed types (1 and "a") cannot be sorted
        codes, uniques = pd.factorize(ids)
    return np.asarray(uniques), codes.astype(np.intp)


def _plain_numbers(frame):
    """A frame of NumPy number columns as one float64 array; anything else as it is.

    check_array inspects a DataFrame's dtypes column by column (0.75 ms for 255
    columns), and a grid search over fused models calls it thousands of times: columns
    that are plain NumPy numbers convert directly. Others (text, nullable or extension
    dtypes) go to check_array as a DataFrame, for its conversions and its errors.
    """
    dtypes = getattr(frame, "dtypes", ())
    if len(dtypes) and all(isinstance(d, np.dtype) and d.kind in "fiub" for d in dtypes):
        return frame.to_numpy(dtype=np.float64)
    return frame
