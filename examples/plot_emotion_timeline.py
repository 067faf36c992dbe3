"""
An emotion timeline of a long recording
=======================================

A call, an interview or a video holds many utterances, each with its own emotion.
:class:`~skemotion.SpeechSegmenter` finds the stretches of speech (Silero VAD, whose
weights ship in the ``silero-vad`` wheel), :func:`~skemotion.predict_timeline`
classifies each stretch with a fitted pipeline, and
:class:`~skemotion.plots.EmotionTimelineDisplay` draws the probabilities over time.

The long recording here is made from the bundled RAVDESS sample: the 16 clips of
actors 21-24 in four emotions (angry, calm, happy, sad), in random order, with 1 to 2.5
seconds of faint noise between them, about a minute and a half in all. The classifier
is trained on the clips of the other 20 actors. Because the recording was assembled
here, the true emotion of each utterance is known: the example prints the timeline
and how many utterances the segmenter found and classified right, and draws the
timeline above the truth.
"""

# %%
# A classifier of single utterances
# ---------------------------------
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skemotion import AudioFeatures, SpeechSegmenter, predict_timeline
from skemotion.datasets import load_ravdess_sample
from skemotion.plots import EmotionTimelineDisplay

EMOTIONS = ["angry", "calm", "happy", "sad"]
sample = load_ravdess_sample()
frame = sample.frame[sample.frame["emotion"].isin(EMOTIONS)]
train, held_out = frame[frame["group"] <= 20], frame[frame["group"] > 20]

clf = make_pipeline(
    AudioFeatures(),
    StandardScaler(),
    LogisticRegression(C=0.1, max_iter=2000),
)
clf.fit(train["audio"], train["emotion"])
print(f"trained on {len(train)} clips of {train['group'].nunique()} actors")

# %%
# A long recording of the other actors
# ------------------------------------
rng = np.random.default_rng(0)
rate = 16000
pieces, truth, now = [], [], 0.0
for _, row in held_out.sample(frac=1, random_state=0).iterrows():
    samples, clip_rate = soundfile.read(row["audio"], dtype="float32")
    assert clip_rate == rate
    gap = rng.normal(0, 10 ** (-50 / 20), int(rng.uniform(1.0, 2.5) * rate))  # -50 dBFS
    pieces += [samples, gap.astype(np.float32)]
    truth.append({"start": now, "end": now + len(samples) / rate, "emotion": row["emotion"]})
    now += (len(samples) + len(gap)) / rate
truth = pd.DataFrame(truth)
recording = Path(tempfile.mkdtemp(prefix="skemotion-timeline-")) / "recording.wav"
soundfile.write(recording, np.concatenate(pieces), rate)
print(f"{recording.name}: {now:.1f} s, {len(truth)} utterances")

# %%
# The timeline
# ------------
# One row per stretch of speech: its bounds in seconds, the predicted emotion and the
# probability of each. A RAVDESS clip starts with about a second of near silence, so
# each segment starts inside its clip.
segmenter = SpeechSegmenter()
timeline = predict_timeline(clf, recording, segmenter=segmenter)
print(timeline.round(2).to_string())

# %%
# Each segment is matched with the utterance it overlaps most.
overlap = np.array(
    [
        [max(0.0, min(s.end, t.end) - max(s.start, t.start)) for t in truth.itertuples()]
        for s in timeline.itertuples()
    ]
)
matched = truth.iloc[overlap.argmax(axis=1)].reset_index(drop=True)
found = len(set(overlap.argmax(axis=1)))
right = (matched["emotion"].to_numpy() == timeline["emotion"].to_numpy()).mean()
print(
    f"{len(timeline)} segments; {found} of the {len(truth)} utterances found; "
    f"{right:.0%} of the segments classified right (chance: 25%)"
)

# %%
# The probabilities over time (top) and the true emotion of each utterance (bottom).
fig, (ax_timeline, ax_truth) = plt.subplots(
    2, 1, figsize=(11, 5), sharex=True, height_ratios=[3, 1]
)
disp = EmotionTimelineDisplay.from_timeline(timeline, ax=ax_timeline)
ax_timeline.set_title("predict_timeline: AudioFeatures + logistic regression, unseen actors")
for utterance in truth.itertuples():
    ax_truth.axvspan(
        utterance.start, utterance.end, color=disp.colors_[utterance.emotion], alpha=0.6
    )
ax_truth.set_yticks([])
ax_truth.set_xlabel("seconds")
ax_truth.set_title("the true emotions", fontsize="medium")
plt.tight_layout()
plt.show()
