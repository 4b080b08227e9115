"""Real media files, synthesised: a song-length WAV and a small PNG per clip.

The WAV lasts exactly the clip's stated duration (a user's length check is not fooled)
and plays a melody: the clip's title picks the tune (so the clips of one request share
it), the clip id its tempo and key (so they still differ). It is 8 kHz, 8-bit, mono: a
3-minute song is 1.4 MB, built in a few milliseconds by joining cached notes. The PNG
derives from the clip id. Pure functions, cached: the server only looks them up.

``/sonic/download`` prepares a clip in MP3, M4A or WAV (``audio_for``): the WAV is the
same song; the MP3 is valid MPEG audio of silence lasting the clip's duration; the M4A has
only a plausible MP4 header (no playable track). Each is served with its format's
content type, which is what a client names the file by. ``/sonic/midi``'s file is a
real Standard MIDI File (``midi_for``).
"""

from __future__ import annotations

import functools
import hashlib
import math
import struct
import zlib
from typing import Final

__all__ = ["AUDIO_TYPES", "SAMPLE_RATE", "audio_for", "midi_for", "png_for", "wav_for"]

SAMPLE_RATE: Final = 8000
_AMPLITUDE: Final = 70  # of 127: loud enough, with room for the overtone
# Semitones of a major pentatonic scale over two octaves: any sequence sounds tolerable.
_SCALE: Final = (0, 2, 4, 7, 9, 12, 14, 16, 19, 21)
_FADE: Final = SAMPLE_RATE // 100  # 10 ms ramps: no clicks between notes
_PNG_SIZE: Final = 64
# The content type of each format ``/sonic/download`` prepares (``DOWNLOAD_FORMATS``).
AUDIO_TYPES: Final = {"wav": "audio/wav", "mp3": "audio/mpeg", "m4a": "audio/mp4"}
# One MPEG-2 Layer III frame: 16 kHz, 8 kbit/s, mono, no CRC: 576 samples (36 ms) in 36
# bytes. Side information of zeros codes no sound at all: a decoder plays silence.
_MP3_HEADER: Final = b"\xff\xf3\x18\xc0"
_MP3_FRAME: Final = _MP3_HEADER + bytes(32)
_MP3_FRAME_SECONDS: Final = 576 / 16000


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


@functools.lru_cache(maxsize=512)
def _note(period: int, length: int) -> bytes:
    """``length`` unsigned 8-bit samples of one note: one cycle tiled, ramped at both ends."""
    # A whole number of samples per cycle (a detune of a percent or two) makes a note a
    # tiling, not a Python loop over every sample.
    cycle = bytes(
        128
        + int(
            _AMPLITUDE
            * (math.sin(2 * math.pi * i / period) + 0.3 * math.sin(4 * math.pi * i / period))
            / 1.3
        )
        for i in range(period)
    )
    note = bytearray((cycle * (length // period + 1))[:length])
    fade = min(_FADE, length // 2)
    for i in range(fade):
        note[i] = 128 + (note[i] - 128) * i // fade
        note[length - 1 - i] = 128 + (note[length - 1 - i] - 128) * i // fade
    return bytes(note)


def _melody(clip_id: str, title: str) -> list[tuple[int, float]]:
    """One pass of the song: ``(scale degree or -1 for a rest, beats)`` pairs."""
    tune, own = _digest(title or clip_id), _digest(clip_id)
    lengths = (1.0, 0.5, 0.5, 1.0, 2.0)
    verse = [(tune[i] % 8, lengths[tune[8 + i] % len(lengths)]) for i in range(8)]
    chorus = [(min(d + 2, len(_SCALE) - 1), b) for d, b in verse[4:] + verse[:4]]
    shift = own[0] % 3  # the clips of one request vary the tune a little
    varied = [((d + shift) % 8, b) for d, b in verse]
    return [*verse, *varied, (-1, 1.0), *chorus, *chorus, (-1, 1.0)]


@functools.lru_cache(maxsize=8)
def wav_for(clip_id: str, duration: float = 3.0, title: str = "") -> bytes:
    """An 8 kHz, mono, 8-bit PCM WAV of exactly ``duration`` seconds playing a melody."""
    frames = max(1, round(duration * SAMPLE_RATE))
    own = _digest(clip_id)
    beat = 60 / (84 + own[1] % 48)  # 84-131 bpm
    root = 196.0 * 2 ** ((own[2] % 7) / 12)  # G3 up to C#4
    melody = _melody(clip_id, title)
    data = bytearray()
    while len(data) < frames:
        for degree, beats in melody:
            length = max(1, round(beats * beat * SAMPLE_RATE))
            if degree < 0:
                data += b"\x80" * length
            else:
                hz = root * 2 ** (_SCALE[degree] / 12)
                data += _note(max(2, round(SAMPLE_RATE / hz)), length)
            if len(data) >= frames:
                break
    del data[frames:]
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + frames,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        SAMPLE_RATE,
        SAMPLE_RATE,
        1,
        8,
        b"data",
        frames,
    )
    return header + bytes(data)


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


@functools.lru_cache(maxsize=8)
def _mp3(duration: float) -> bytes:
    """Silent MPEG audio: whole frames covering ``duration`` seconds (a 3-minute song is
    180 kB). Not the song, but real MP3 that players open and that lasts as long."""
    return _MP3_FRAME * max(1, math.ceil(duration / _MP3_FRAME_SECONDS))


def _m4a(duration: float) -> bytes:
    """An ``ftyp`` box of brand ``M4A`` and an ``mdat`` box of zeros, about 1 kB a second.

    A plausible header only: there is no ``moov`` box, so no player can decode it, but a
    type sniffer or a size check sees an M4A file. Enough for the download path's tests.
    """
    ftyp = b"M4A " + struct.pack(">I", 0) + b"M4A mp42isom"
    payload = bytes(max(1, round(duration * 1000)))
    return (
        struct.pack(">I", 8 + len(ftyp))
        + b"ftyp"
        + ftyp
        + struct.pack(">I", 8 + len(payload))
        + b"mdat"
        + payload
    )


def audio_for(fmt: str, clip_id: str, duration: float = 3.0, title: str = "") -> bytes:
    """The clip's audio in ``fmt`` (a key of ``AUDIO_TYPES``); see the module docstring."""
    if fmt == "mp3":
        return _mp3(duration)
    if fmt == "m4a":
        return _m4a(duration)
    return wav_for(clip_id, duration, title)


def _varlen(value: int) -> bytes:
    """A MIDI variable-length quantity: 7 bits a byte, high bit set on all but the last."""
    out = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        out.append(0x80 | (value & 0x7F))
    return bytes(reversed(out))


def midi_for(clip_id: str) -> bytes:
    """A type-0 Standard MIDI File of the four notes ``/sonic/midi`` lists (C4 up, one a
    beat at 120 bpm, 0.4 s each): what its ``midi_url`` serves."""
    del clip_id  # the emulator's transcription is the same for every clip
    events = b"\x00\xff\x51\x03\x07\xa1\x20"  # tempo: 500000 us a beat (120 bpm)
    for i in range(4):
        rest = 0 if i == 0 else 96  # ticks (480 a beat) between a note's end and the next
        events += _varlen(rest) + bytes((0x90, 60 + i, 90))  # note on, velocity 90
        events += _varlen(384) + bytes((0x80, 60 + i, 0))  # note off 0.4 s later
    events += b"\x00\xff\x2f\x00"  # end of track
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
    return header + b"MTrk" + struct.pack(">I", len(events)) + events
