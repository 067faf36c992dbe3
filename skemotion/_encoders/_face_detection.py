"""Face detection for FaceEncoder: OpenCV's frontal-face Haar cascade, as ``fer`` uses it."""

import threading
from pathlib import Path

from .._optional import import_optional_dependency

# Each side of a detected face box grows by this fraction of its size, so that the crop
# keeps the brow and chin as FER-2013's crops do (fer adds 10 px to ~100 px boxes).
FACE_MARGIN = 0.1
# Pictures with a longer side above this many pixels are searched on a smaller copy.
DETECTION_SIDE = 1600
# Video frames too, from a smaller size: the cascade takes 250 ms on a 720p frame and
# 35 ms at 640 x 360, where faces from about 24 px (48 px in the 720p frame) are found.
VIDEO_DETECTION_SIDE = 640
_CASCADES = threading.local()  # one Haar cascade per decoding thread


def cv2_module():
    return import_optional_dependency("cv2", extra="face", caller="FaceEncoder")


def _cascade():
    """This thread's Haar cascade: OpenCV does not promise one is safe to share."""
    if not hasattr(_CASCADES, "detector"):
        cv2 = cv2_module()
        path = Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"
        detector = cv2.CascadeClassifier(str(path))
        if detector.empty():
            raise RuntimeError(f"FaceEncoder could not load OpenCV's Haar cascade {path}")
        _CASCADES.detector = detector
    return _CASCADES.detector


def largest_face(grey, max_side=None):
    """The (x, y, w, h) box of the largest face the cascade finds, or None.

    The search runs on a copy whose longer side is at most `max_side` pixels
    (``DETECTION_SIDE`` by default); the box is in `grey`'s own pixels.
    """
    searched, (x_scale, y_scale) = _searchable(grey, max_side or DETECTION_SIDE)
    # fer's detector settings, without its 50-pixel minimum (small crops have faces too).
    boxes = _cascade().detectMultiScale(searched, scaleFactor=1.1, minNeighbors=5)
    if len(boxes) == 0:
        return None
    x, y, w, h = max(boxes, key=lambda box: box[2] * box[3])
    return (round(x * x_scale), round(y * y_scale), round(w * x_scale), round(h * y_scale))


def _searchable(grey, max_side):
    """The picture the cascade searches, and the factors back to `grey`'s pixels.

    The cascade's image pyramid costs tens of bytes per pixel (5 GB for a 100-megapixel
    photograph), so pictures whose longer side exceeds `max_side` are searched on a
    copy scaled down to it; faces in such pictures are large enough to be found there,
    and the face is then cropped from the full-resolution picture.
    """
    height, width = grey.shape
    if max(height, width) <= max_side:
        return grey, (1.0, 1.0)
    ratio = max_side / max(height, width)
    size = (max(1, round(width * ratio)), max(1, round(height * ratio)))
    cv2 = cv2_module()
    smaller = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    return smaller, (width / size[0], height / size[1])


def crop_face(grey, box):
    """The box made square (longer side), widened by the margin, clipped to the image."""
    x, y, w, h = box
    side = max(w, h)
    grow = int(round(FACE_MARGIN * side))
    cx, cy = x + w / 2, y + h / 2
    half = side / 2 + grow
    top, left = max(0, int(round(cy - half))), max(0, int(round(cx - half)))
    bottom = min(grey.shape[0], int(round(cy + half)))
    right = min(grey.shape[1], int(round(cx + half)))
    return grey[top:bottom, left:right]
