"""Real media files, synthesised: a short WAV and a small PNG per clip.

Both derive deterministically from the clip id (a SHA-256 of it picks the notes, the
length and the colours), so the same clip always downloads the same bytes and two
clips never sound alike. Pure functions, cached: the server only looks them up.
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
import sys
import zlib
from array import array
from typing import Final

__all__ = ["SAMPLE_RATE", "png_for", "wav_for"]

SAMPLE_RATE: Final = 22050
_AMPLITUDE: Final = 0.3 * 32767
# A pentatonic scale: any sequence of its notes sounds tolerable.
_SCALE_HZ: Final = (261.63, 293.66, 329.63, 392.00, 440.00, 523.25, 587.33, 659.25)
_PNG_SIZE: Final = 64


def _digest(clip_id: str) -> bytes:
    return hashlib.sha256(clip_id.encode()).digest()


@functools.lru_cache(maxsize=128)
def wav_for(clip_id: str) -> bytes:
    """A 2-4 s, 22.05 kHz, mono, 16-bit PCM WAV of four notes chosen by ``clip_id``."""
    digest = _digest(clip_id)
    seconds = 2.0 + 2.0 * digest[0] / 255
    total = int(seconds * SAMPLE_RATE)
    notes = [_SCALE_HZ[b % len(_SCALE_HZ)] for b in digest[1:5]]
    per_note = total // len(notes)
    fade = SAMPLE_RATE // 50  # 20 ms ramps: no clicks between notes
    samples = array("h")
    for hz in notes:
        # One cycle, tiled: each note is a whole number of samples long per period (a
        # detune under 1%), which makes a file cost a millisecond, not a Python loop.
        period = round(SAMPLE_RATE / hz)
        cycle = array("h", (int(_AMPLITUDE * math.sin(2 * math.pi * i / period))
                            for i in range(period)))  # fmt: skip
        note = (cycle * (per_note // period + 1))[:per_note]
        for i in range(fade):
            note[i] = int(note[i] * i / fade)
            note[per_note - 1 - i] = int(note[per_note - 1 - i] * i / fade)
        samples.extend(note)
    if sys.byteorder == "big":  # WAV is little-endian
        samples.byteswap()
    data = samples.tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(data), b"WAVE",
        b"fmt ", 16, 1, 1, SAMPLE_RATE, SAMPLE_RATE * 2, 2, 16,
        b"data", len(data),
    )  # fmt: skip
    return header + data


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


@functools.lru_cache(maxsize=256)
def png_for(clip_id: str) -> bytes:
    """A 64x64 RGB PNG: a diagonal gradient between two colours chosen by ``clip_id``."""
    digest = _digest(clip_id)
    top, bottom = digest[8:11], digest[11:14]
    rows = bytearray()
    span = 2 * (_PNG_SIZE - 1)
    for y in range(_PNG_SIZE):
        rows.append(0)  # filter type "none" for this scanline
        for x in range(_PNG_SIZE):
            t = (x + y) / span
            rows.extend(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
    ihdr = struct.pack(">IIBBBBB", _PNG_SIZE, _PNG_SIZE, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )
