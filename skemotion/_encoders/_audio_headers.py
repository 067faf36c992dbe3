"""What an audio file's own header says about its length, to tell a cut-off file.

libsndfile reads a truncated file up to where it ends without a word, and for WAV-like
containers even corrects the frame count it reports from the file's size. The count
the header declared is read here instead: from the data chunk (WAV, WAVEX, RF64, W64)
or the COMM chunk (AIFF, AIFC). An Ogg stream declares no length, but its last page
carries the end-of-stream flag: a file whose last page lacks it (or is cut short) was
cut off. An MP3 declares its number of frames in a Xing, Info or VBRI header inside its
first frame, which libsndfile (mpg123) then reports exactly; without one, libsndfile's
count is an estimate from the file's size.
"""

import os
import struct

# An MP3's first frame (where its Xing or VBRI header is) within this many bytes after
# its ID3v2 tag: encoders put it first, but a little padding is allowed for.
_MP3_SYNC_SEARCH = 4096
# Chunks are walked by seeking, never read whole: a JUNK or LIST chunk may be large.
_W64_RIFF = b"riff\x2e\x91\xcf\x11\xa5\xd6\x28\xdb\x04\xc1\x00\x00"
_OGG_TAIL_BYTES = 65536 + 282  # more than the largest Ogg page (27 + 255 + 255 * 255)


def declared_frames(path):
    """The frame count the file's header declares, or None where it declares none.

    Streaming writers leave a WAV's data size 0 or 0xFFFFFFFF: then nothing is known.
    """
    with open(path, "rb") as file:
        head = file.read(12)
        if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
            return _riff_frames(file, rf64=head[:4] == b"RF64")
        if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
            return _aiff_frames(file)
        if head[:12] == _W64_RIFF[:12]:
            return _w64_frames(file)
    return None


def _riff_frames(file, *, rf64):
    block_align, data_size_64 = None, None
    for chunk, size, start in _chunks(file, id_bytes=4, size_format="<I", header=8):
        if chunk == b"ds64":  # RF64: the real sizes, 64-bit
            data_size_64 = struct.unpack("<Q", _read_at(file, start + 16, 8))[0]  # after riffSize
        elif chunk == b"fmt ":
            block_align = struct.unpack("<H", _read_at(file, start + 20, 2))[0]
        elif chunk == b"data":
            if rf64 and size == 0xFFFFFFFF:
                size = data_size_64
            if not block_align or size in (None, 0, 0xFFFFFFFF):
                return None
            return size // block_align
    return None


def _aiff_frames(file):
    for chunk, _size, start in _chunks(file, id_bytes=4, size_format=">I", header=8):
        if chunk == b"COMM":
            return struct.unpack(">I", _read_at(file, start + 10, 4))[0]
    return None


def _w64_frames(file):
    file.seek(40)  # riff GUID, 64-bit size, wave GUID
    block_align = None
    for chunk, size, start in _chunks(file, id_bytes=16, size_format="<Q", header=24):
        size -= 24  # W64 sizes include the chunk's own header
        if chunk.startswith(b"fmt "):
            block_align = struct.unpack("<H", _read_at(file, start + 36, 2))[0]
        elif chunk.startswith(b"data"):
            return size // block_align if block_align and size > 0 else None
    return None


def _chunks(file, *, id_bytes, size_format, header):
    """(id, declared size, offset of its header) of each chunk from the file's position."""
    end = os.fstat(file.fileno()).st_size
    position = file.tell()
    align = 8 if id_bytes == 16 else 2
    while position + header <= end:
        raw = _read_at(file, position, header)
        chunk = raw[:id_bytes]
        size = struct.unpack(size_format, raw[id_bytes:header])[0]
        yield chunk, size, position
        body = size - header if id_bytes == 16 else size
        position += header + body + (-(header + body) % align if id_bytes == 16 else size & 1)


def _read_at(file, offset, n):
    file.seek(offset)
    return file.read(n)


def ogg_is_cut_off(path):
    """Whether an Ogg file lacks its end: no complete last page with end-of-stream set."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        file.seek(max(0, size - _OGG_TAIL_BYTES))
        tail = file.read()
    last = tail.rfind(b"OggS")
    if last < 0 or len(tail) - last < 27:
        return True
    page = tail[last:]
    n_segments = page[26]
    if len(page) < 27 + n_segments:
        return True
    body = sum(page[27 : 27 + n_segments])
    header_type = page[5]
    return len(page) < 27 + n_segments + body or not header_type & 0x04


def mp3_declares_frames(path):
    """Whether an MP3 file's first frame holds a Xing/Info or VBRI header with a frame count.

    Its frame count (with LAME's encoder delay and padding) is what libsndfile reports
    as the file's length: a file that holds fewer samples was cut off, whatever the
    shortfall.
    """
    with open(path, "rb") as file:
        head = file.read(10)
        start = 0
        if len(head) == 10 and head[:3] == b"ID3":  # ID3v2 tag: a syncsafe size
            size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7
            start = 10 + (size | (head[9] & 0x7F)) + (10 if head[5] & 0x10 else 0)
        file.seek(start)
        data = file.read(_MP3_SYNC_SEARCH + 200)
    for offset in range(min(len(data) - 4, _MP3_SYNC_SEARCH)):
        if data[offset] == 0xFF and data[offset + 1] & 0xE0 == 0xE0:
            return _frame_declares_frames(data[offset:])
    return False


def _frame_declares_frames(frame):
    """Whether the MPEG audio frame starting `frame` holds a Xing/Info or VBRI frame count."""
    version, layer = (frame[1] >> 3) & 0x03, (frame[1] >> 1) & 0x03
    if layer != 0x01:  # Xing headers are in Layer III frames
        return False
    mono = (frame[3] >> 6) == 0x03
    if version == 0x03:  # MPEG-1
        side_info = 17 if mono else 32
    else:  # MPEG-2, MPEG-2.5
        side_info = 9 if mono else 17
    protected = not frame[1] & 0x01  # a 16-bit CRC follows the frame's header
    for xing in {4 + side_info, 4 + side_info + 2 * protected}:
        if frame[xing : xing + 4] in (b"Xing", b"Info") and len(frame) >= xing + 8:
            flags = struct.unpack(">I", frame[xing + 4 : xing + 8])[0]
            return bool(flags & 0x01)  # the frames field is present
    return frame[36:40] == b"VBRI"  # Fraunhofer's header always holds the frame count
