"""Frozen attrs models of what the service answers: tasks, clips, personas, credits.

Kept apart from the request models (``_request_models``). Results keep the fields they
do not name (``extra``) and the states they do not know (``ClipState`` is an open enum).
``_models`` is the import path for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ._model_base import ClipState, Family

__all__ = [
    "BpmResult",
    "Clip",
    "ClipPair",
    "Credits",
    "LyricsCandidate",
    "Persona",
    "TaskAccepted",
    "TaskSnapshot",
    "UploadedClip",
]


@attrs.frozen(kw_only=True)
class TaskAccepted:
    """A generation request was accepted and billed; ``task_id`` names the task."""

    task_id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Clip:
    """One generated song, whichever family produced it.

    ``duration`` is in seconds (the API sends an integer or a decimal string). Fields the
    server sent that this model does not name are kept in ``extra``.
    """

    clip_id: str
    state: ClipState
    title: str | None = None
    tags: str | None = None
    lyrics: str | None = None
    audio_url: str | None = None
    image_url: str | None = None
    video_url: str | None = None
    duration: float | None = None
    mv: str | None = None
    created_at: str | None = None
    gpt_description_prompt: str | None = None
    # The voice a create-voice task made, on its succeeded clip (use with persona_music).
    persona_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_terminal(self) -> bool:
        """Whether this clip will not change any more."""
        return self.state.is_terminal


@attrs.frozen(kw_only=True)
class ClipPair:
    """One extension of an upload-extend task with ``auto_concat``, and its whole song.

    ``full`` is ``None`` while the concat runs: the pair is over only once it is there
    (or the extension failed, so no concat will come).
    """

    extended: Clip
    full: Clip | None = None
    # Keys of the pair object besides the two clips, kept as sent.
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def complete(self) -> bool:
        """Whether neither clip will change any more."""
        if self.extended.state is ClipState.FAILED:
            return True
        return self.extended.is_terminal and self.full is not None and self.full.is_terminal


@attrs.frozen(kw_only=True)
class TaskSnapshot:
    """What one poll of a task's endpoint said.

    Attributes:
        ready: ``False`` while the API answers ``{"type": "not_ready"}`` (no clips yet).
        status: the family-level status (nuro/studio), verbatim.
        progress: percent complete where the family reports it (nuro, studio).
    """

    task_id: str
    family: Family
    clips: tuple[Clip, ...] = ()
    ready: bool = True
    status: str | None = None
    progress: float | None = None
    message: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    # Upload-extend with auto_concat: the clips as the API pairs them (``clips`` holds
    # each pair's extension, then its full song once there).
    pairs: tuple[ClipPair, ...] = ()

    # Whether the task is over: ready, with clips, every one of them terminal, and every
    # pair's full song there. Computed once: the poller and every waiter ask on each poll.
    done: bool = attrs.field(init=False, repr=False, eq=False)

    @done.default
    def _done(self) -> bool:
        return (
            self.ready
            and bool(self.clips)
            and all(c.is_terminal for c in self.clips)
            and all(p.complete for p in self.pairs)
        )

    @property
    def failed_clips(self) -> tuple[Clip, ...]:
        """The clips that ended ``failed``."""
        return tuple(c for c in self.clips if c.state is ClipState.FAILED)


@attrs.frozen(kw_only=True)
class Persona:
    """A created persona; pass ``persona_id`` to ``sonic.create_with_persona``."""

    persona_id: str
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class UploadedClip:
    """An uploaded audio file; ``clip_id`` feeds the ``*_upload_music`` task types.

    With a ``callback_url`` the upload may be answered asynchronously: ``clip_id`` is then
    empty and ``task_id`` names the upload until the callback brings the clip.
    """

    clip_id: str = ""
    task_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class LyricsCandidate:
    """One of the lyrics the API wrote for a description."""

    title: str
    lyrics: str


@attrs.frozen(kw_only=True)
class BpmResult:
    """A clip's tempo in beats per minute: average, fastest and slowest."""

    avg_bpm: float
    max_bpm: float
    min_bpm: float
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)


@attrs.frozen(kw_only=True)
class Credits:
    """The account's balance; ``extra_credits`` are spent first and do not expire."""

    credits: int
    extra_credits: int = 0
    extra: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def total(self) -> int:
        """Subscription and extra credits together."""
        return self.credits + self.extra_credits
