"""What the one-shot commands do: generate, wait, status, download, credits, lyrics, persona.

``bulk``, ``reconcile`` and the fleet only have their thin entry here (their work lives in
their own modules). Separate from ``_main`` so the entry point stays a page: it looks a
command up in ``_COMMANDS`` and runs it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Any, Final

import anyio
import attrs

from musicapi_async import (
    DEFAULT_BASE_URL,
    Clip,
    ClipFailed,
    ClipPlayable,
    Family,
    InvalidRequest,
    Job,
    MusicAPI,
    PersonaRequest,
    SonicRequest,
    SonicTaskType,
    TaskDone,
    TaskFailed,
    TaskNotFound,
    TaskSnapshot,
    TaskTimeout,
    clip_to_wire,
    endpoint_of,
    to_wire,
    validate_body,
)

from ._context import _client, _Context, _error, _shown_command, _Usage

# The keys the JSON output has always shown, present (as null) even when unset.
_CLIP_KEYS: Final = ("clip_id", "state", "title", "duration", "audio_url", "image_url")


def _clip_json(clip: Clip, files: Sequence[Path] = ()) -> dict[str, Any]:
    """The clip as the API sent it (the package's one clip -> JSON), plus its files."""
    return {**dict.fromkeys(_CLIP_KEYS), **clip_to_wire(clip), "files": [str(p) for p in files]}


def _clip_line(clip: Clip) -> str:
    length = f"{int(clip.duration) // 60}:{int(clip.duration) % 60:02d}" if clip.duration else "-"
    return f"  {clip.clip_id}  {clip.state.value:<9}  {length:>5}  {clip.title or ''}" + (
        f"\n      {clip.audio_url}" if clip.audio_url else ""
    )


def _kinds(text: str) -> tuple[Any, ...]:
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in kinds if k not in ("audio", "image", "video")]
    if bad:
        raise _Usage(f"--kinds: unknown file kind(s) {', '.join(bad)}; use audio, image, video")
    return kinds


async def _follow(ctx: _Context, api: MusicAPI, job: Job) -> int:
    """Print the stream URL(s) as they appear, wait, download; the exit status."""
    args = ctx.args
    ctx.in_flight.append(job.task_id)
    try:
        with anyio.fail_after(args.timeout):
            async with aclosing(job.updates()) as events:
                async for event in events:
                    if isinstance(event, ClipPlayable):
                        ctx.say(f"Listen now: {event.clip.audio_url}  ({event.clip.title})")
                    elif isinstance(event, ClipFailed):
                        ctx.say(f"Clip {event.clip.clip_id} failed.")
                    elif isinstance(event, TaskDone):
                        break
    except TimeoutError:
        raise TaskTimeout(
            f"task {job.task_id} was not finished after {args.timeout:g} s; "
            f"resume with: musicapi wait {job.task_id}",
            task_id=job.task_id,
        ) from None
    ctx.in_flight.remove(job.task_id)
    return await _finish(ctx, api, job.task_id, job.result)


async def _finish(
    ctx: _Context, api: MusicAPI, task_id: str, result: Callable[[], list[Clip]]
) -> int:
    """Show (and download) the clips of a finished task."""
    try:
        clips = result()
    except TaskFailed as exc:
        ctx.result(
            {
                "ok": False,
                "task_id": task_id,
                "error": str(exc),
                "clips": [_clip_json(c) for c in exc.clips],
            }
        )
        print(f"musicapi: task {task_id} failed: {exc}", file=sys.stderr)
        return 1
    files: dict[str, list[Path]] = {}
    ctx.say(f"Task {task_id} finished:")
    for clip in clips:
        ctx.say(_clip_line(clip))
    if getattr(ctx.args, "download", False):  # `wait` has no --download: it only shows
        kinds = _kinds(ctx.args.kinds)
        for clip in clips:
            files[clip.clip_id] = await api.download(
                clip, ctx.args.out, kinds=kinds, overwrite=True
            )
            for path in files[clip.clip_id]:
                ctx.say(f"Saved {path}")
    ctx.result(
        {
            "ok": True,
            "task_id": task_id,
            "clips": [_clip_json(c, files.get(c.clip_id, ())) for c in clips],
        }
    )
    return 0


async def _generate(ctx: _Context) -> int:
    args = ctx.args
    fields = {
        f.name: getattr(args, f.name)
        for f in attrs.fields(SonicRequest)
        if getattr(args, f.name) is not None
    }
    task_type = SonicTaskType(fields.pop("task_type"))
    if task_type != "concat_music":
        fields.setdefault("mv", "sonic-v5")
        fields.setdefault("custom_mode", "gpt_description_prompt" not in fields)
    request = SonicRequest(task_type=task_type, **fields)
    validate_body(endpoint_of(request), to_wire(request))  # before a key is even looked at
    _kinds(args.kinds)  # a typo here must not cost a song
    async with _client(ctx, MusicAPI) as api:
        job = await api.submit(request)
        ctx.say(f"Task {job.task_id} accepted ({task_type.value}); waiting…")
        return await _follow(ctx, api, job)


def _no_emulator(ctx: _Context) -> None:
    """Refuse ``--emulator`` for a command about an existing task: it could never exist."""
    if ctx.args.emulator:
        raise _Usage(
            f"--emulator starts a fresh, empty emulator for each command, so it "
            f"cannot know task {ctx.args.task_id}. Run `musicapi emulator` in "
            "another terminal, then give every command --base-url "
            "http://127.0.0.1:8000 --api-key test-key instead of --emulator."
        )


async def _find_task(ctx: _Context, api: MusicAPI) -> TaskSnapshot:
    """Poll the task in its ``--family``, or in each family until one knows it."""
    task_id = ctx.args.task_id
    if ctx.args.family is not None:
        return await api.get_task(task_id, Family(ctx.args.family))
    last: InvalidRequest | None = None
    for family in Family:
        try:
            return await api.get_task(task_id, family)
        except InvalidRequest as exc:  # "task not found." (or nuro's 404): not this family
            if exc.status not in (400, 404):
                raise
            last = exc
    families = ", ".join(f.value for f in Family)
    raise TaskNotFound(
        f"no family ({families}) knows task {task_id}; check the id and that "
        "--base-url and the key are the ones that created it, or pass "
        "--family",
        task_id=task_id,
        status=last.status if last else None,
    )


async def _wait(ctx: _Context) -> int:
    _no_emulator(ctx)
    async with _client(ctx, MusicAPI) as api:
        family = ctx.args.family or (await _find_task(ctx, api)).family
        return await _follow(ctx, api, api.job(ctx.args.task_id, Family(family)))


def _snapshot_json(snapshot: TaskSnapshot) -> dict[str, Any]:
    return {
        "task_id": snapshot.task_id,
        "family": snapshot.family.value,
        "ready": snapshot.ready,
        "done": snapshot.done,
        "status": snapshot.status,
        "progress": snapshot.progress,
        "clips": [clip_to_wire(c) for c in snapshot.clips],
    }


async def _status(ctx: _Context) -> int:
    _no_emulator(ctx)
    async with _client(ctx, MusicAPI) as api:
        snapshot = await _find_task(ctx, api)
    state = "done" if snapshot.done else ("not ready yet" if not snapshot.ready else "running")
    ctx.say(f"Task {snapshot.task_id} ({snapshot.family.value}): {state}")
    for clip in snapshot.clips:
        ctx.say(_clip_line(clip))
    ctx.result(_snapshot_json(snapshot))
    return 0


async def _download(ctx: _Context) -> int:
    if ctx.args.formats:  # download CLIP_ID --format F: the clip's prepared files
        from ._utilities import download_prepared

        return await download_prepared(ctx)
    ctx.args.out = ctx.args.out or "."  # None unless given: --format saves only with --out
    _no_emulator(ctx)
    _kinds(ctx.args.kinds)
    async with _client(ctx, MusicAPI) as api:
        snapshot = await _find_task(ctx, api)
        if not snapshot.done:
            return _error(
                ctx,
                f"task {snapshot.task_id} is not finished yet; wait for it "
                f"with: musicapi wait {snapshot.task_id}",
                1,
            )
        job = api.job(snapshot.task_id, snapshot.family)
        job.observe(snapshot)
        return await _finish(ctx, api, snapshot.task_id, job.result)


async def _credits(ctx: _Context) -> int:
    async with _client(ctx, MusicAPI) as api:
        credits = await api.get_credits()
    ctx.say(
        f"{credits.total} credits ({credits.credits} subscription, {credits.extra_credits} extra)"
    )
    ctx.result(
        {"credits": credits.credits, "extra_credits": credits.extra_credits, "total": credits.total}
    )
    return 0


async def _lyrics(ctx: _Context) -> int:
    async with _client(ctx, MusicAPI) as api:
        candidates = await api.lyrics.generate(description=ctx.args.description)
    for candidate in candidates:
        ctx.say(f"# {candidate.title}\n\n{candidate.lyrics}\n")
    ctx.result([{"title": c.title, "lyrics": c.lyrics} for c in candidates])
    return 0


async def _persona(ctx: _Context) -> int:
    args = ctx.args
    request = PersonaRequest(
        name=args.name,
        continue_clip_id=args.clip_id,
        description=args.description,
        styles=args.styles,
    )
    validate_body(endpoint_of(request), to_wire(request))
    async with _client(ctx, MusicAPI) as api:
        persona = await api.sonic.create_persona(
            name=args.name,
            continue_clip_id=args.clip_id,
            description=args.description,
            **({"styles": args.styles} if args.styles else {}),
        )
    ctx.say(
        f"Persona {persona.persona_id} created; use it with "
        f"--task-type persona_music --persona-id {persona.persona_id}"
    )
    ctx.result({"persona_id": persona.persona_id})
    return 0


async def _bulk(ctx: _Context) -> int:
    from ._bulk_command import bulk_command

    def on_interrupt(report: Callable[[], None]) -> None:
        ctx.on_interrupt = report

    if ctx.args.redis:  # [redis hook] a fleet run (``cli._fleet``)
        from ._fleet import fleet_command

        base_url = ctx.args.base_url or os.environ.get("MUSICAPI_BASE_URL") or DEFAULT_BASE_URL
        return await fleet_command(ctx.args, lambda c: _client(ctx, MusicAPI, c), base_url=base_url)
    where = (
        f"emulator at {ctx.speed:g}x speed"
        if ctx.args.emulator
        else (ctx.args.base_url or os.environ.get("MUSICAPI_BASE_URL") or "api.musicapi.ai")
    )
    return await bulk_command(
        ctx.args,
        lambda cls: _client(ctx, cls),
        where=where,
        resume=_shown_command(ctx.argv, ctx.args.api_key),
        on_interrupt=on_interrupt,
    )


async def _reconcile(ctx: _Context) -> int:
    from ._reconcile import reconcile_command

    return await reconcile_command(ctx.args, lambda cls: _client(ctx, cls))


_COMMANDS: Final[dict[str, Callable[[_Context], Coroutine[Any, Any, int]]]] = {
    "generate": _generate,
    "bulk": _bulk,
    "persona": _persona,
    "lyrics": _lyrics,
    "status": _status,
    "wait": _wait,
    "download": _download,
    "credits": _credits,
    "reconcile": _reconcile,
}
