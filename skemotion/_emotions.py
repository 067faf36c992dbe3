"""The emotion label sets that models and datasets share, each written once."""

# FER-2013's seven classes in the challenge's label-id order: the order of the
# mini-Xception's outputs (FaceEncoder) and of the dataset's ids (load_fer2013).
FER2013_EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
