"""predict_timeline: the emotion of each utterance of a long recording, in time order."""

import os

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._encoders._segment import Segment
from ._segmenter import SpeechSegmenter

__all__ = ["predict_timeline"]

CALLER = "predict_timeline"


def predict_timeline(pipeline, recording, *, segmenter=None, column=None):
    """Classify each utterance of a long recording: an emotion timeline.

    The recording is cut into its stretches of speech by `segmenter` (Silero VAD),
    each stretch becomes a :class:`~skemotion.Segment` item of the file, and the
    fitted `pipeline` classifies the segments as it would clips: every encoder reads
    a segment of an audio file, and of a video file both the audio track and the
    frames, between its two times only.

    Parameters
    ----------
    pipeline : estimator
        A fitted classifier of items, e.g. ``make_pipeline(AudioFeatures(),
        StandardScaler(), LogisticRegression())`` fitted on clips, or a multimodal
        pipeline fitted on a DataFrame of clips.
    recording : str or path-like
        An audio or video file, as :meth:`SpeechSegmenter.segment` reads it.
    segmenter : SpeechSegmenter, default=None
        What finds the speech; None uses ``SpeechSegmenter()``.
    column : str, list of str or None, default=None
        How the segments are passed to `pipeline`. A name (or names): as a DataFrame
        with that column (each of them) holding the segments. None: as a DataFrame
        with the columns the pipeline was fitted on (its ``feature_names_in_``), each
        holding the segments, so that one video's segments feed its face and its
        audio modalities; or, for a pipeline fitted on a list of items, as a list.

    Returns
    -------
    timeline : DataFrame
        One row per segment, in time order: ``start`` and ``end`` (seconds),
        ``emotion`` (the predicted class) and, when the pipeline has
        ``predict_proba``, ``proba_<class>`` for each of its ``classes_``. No rows,
        with a warning, where the recording holds no speech.

    See Also
    --------
    SpeechSegmenter : How the speech is found.
    skemotion.plots.EmotionTimelineDisplay : Plot the timeline.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skemotion import AudioFeatures, predict_timeline
    >>> clf = make_pipeline(AudioFeatures(), StandardScaler(), LogisticRegression())
    >>> clf.fit(clips, emotions)  # doctest: +SKIP
    >>> predict_timeline(clf, "interview.wav")  # doctest: +SKIP
        start    end  emotion  proba_angry  proba_calm
    0   0.958  2.718    angry         0.91        0.09
    1   4.030  6.114     calm         0.22        0.78
    """
    if not hasattr(pipeline, "predict"):
        raise TypeError(
            f"{CALLER}: pipeline must be a fitted classifier (with predict); got "
            f"{type(pipeline).__name__}."
        )
    check_is_fitted(pipeline)
    if not isinstance(recording, (str, os.PathLike)):
        raise TypeError(
            f"{CALLER}: recording must be the path of an audio or video file (the segments "
            f"are read from it); got a {type(recording).__name__}. Write an array to a "
            "file first (soundfile.write), or use SpeechSegmenter().segment on it."
        )
    if segmenter is None:
        segmenter = SpeechSegmenter()
    elif not hasattr(segmenter, "segments"):
        raise TypeError(
            f"{CALLER}: segmenter must be a SpeechSegmenter (or have its segments method); "
            f"got {type(segmenter).__name__}."
        )
    columns = _columns(pipeline, column)
    segments = segmenter.segments(recording)
    timeline = pd.DataFrame(
        {
            "start": np.array([s.start for s in segments], dtype=float),
            "end": np.array([s.end for s in segments], dtype=float),
        }
    )
    classes = getattr(pipeline, "classes_", None)
    has_proba = hasattr(pipeline, "predict_proba")
    if not segments:
        empty = np.array([], dtype=None if classes is None else np.asarray(classes).dtype)
        timeline["emotion"] = empty
        if has_proba and classes is not None:
            for name in classes:
                timeline[f"proba_{name}"] = np.array([], dtype=float)
        return timeline
    X = _items(segments, columns)
    emotion, proba = _predict(pipeline, X, has_proba)
    timeline["emotion"] = np.asarray(emotion)
    if proba is not None:
        names = classes if classes is not None else range(proba.shape[1])
        for k, name in enumerate(names):
            timeline[f"proba_{name}"] = proba[:, k]
    return timeline


def _columns(pipeline, column):
    """The DataFrame columns to fill with the segments, or None for a list."""
    fitted = getattr(pipeline, "feature_names_in_", None)
    if column is None:
        return None if fitted is None else [str(name) for name in fitted]
    columns = [column] if isinstance(column, str) else column
    if (
        not isinstance(columns, (list, tuple))
        or not columns
        or not all(isinstance(name, str) for name in columns)
    ):
        raise TypeError(
            f"{CALLER}: column must be a column name or a list of names; got {column!r}."
        )
    if fitted is not None and sorted(columns) != sorted(map(str, fitted)):
        raise ValueError(
            f"{CALLER}: column={column!r}, but the pipeline was fitted on the columns "
            f"{[str(name) for name in fitted]}; pass column=None to fill each of them "
            "with the segments."
        )
    return list(columns)


def _items(segments, columns):
    """The segments as the pipeline takes them: a list, or a DataFrame of columns."""
    if columns is None:
        return list(segments)
    holder = np.empty(len(segments), dtype=object)
    for i, segment in enumerate(segments):  # not holder[:] = segments: tuples unpack
        holder[i] = Segment(*segment)
    return pd.DataFrame({name: holder.copy() for name in columns})


def _predict(pipeline, X, has_proba):
    """(predicted classes, probabilities or None), encoding the segments only once."""
    if not has_proba:
        return pipeline.predict(X), None
    if isinstance(pipeline, Pipeline) and len(pipeline.steps) > 1:
        # Predict and predict_proba would each run the encoders: transform once.
        Xt = pipeline[:-1].transform(X)
        final = pipeline[-1]
        return final.predict(Xt), final.predict_proba(Xt)
    return pipeline.predict(X), pipeline.predict_proba(X)
