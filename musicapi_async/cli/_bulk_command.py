"""``musicapi bulk``: read and check the plan, choose the display, run it, report and exit.

The command around the bulk run: input problems, ``--dry-run`` and ``--budget`` estimates,
held-back lines, the JSON report and what Ctrl-C prints. Separate from ``_bulk`` (the run
itself and its manifest), which needs none of this and is what the fleet reuses.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from pathlib import Path
from typing import Any

from musicapi_async import (
    InsufficientCredits,
    MusicAPI,
    SQLiteJournal,
    SubmissionOutcomeUnknown,
    to_wire,
)

from ._bulk import BulkOptions, manifest_rows, not_sent, run_plan, write_manifest
from ._input import InputError, Line, Plan, Problem, load_plan
from ._progress import (
    Display,
    Item,
    LiveDisplay,
    Phase,
    PlainDisplay,
    QuietDisplay,
    Tracker,
    make_console,
    print_summary,
)

__all__ = ["OpenClient", "budget_fit", "bulk_command", "exit_status", "read_plan"]


OpenClient = Callable[[type[MusicAPI]], AbstractAsyncContextManager[MusicAPI]]


async def bulk_command(
    args: argparse.Namespace,
    open_client: OpenClient,
    *,
    where: str,
    resume: str,
    on_interrupt: Callable[[Callable[[], None]], None],
) -> int:
    """``musicapi bulk``: check the whole file, run it, show it, write the manifest.

    Args:
        args: the parsed command line.
        open_client: opens the client (on the emulator with ``--emulator``).
        where: what the run talks to, for the display.
        resume: the command line that resumes this run.
        on_interrupt: registers what to print on Ctrl-C.

    Returns:
        0 when every line is done, 1 when some failed, 2 for bad input (nothing sent), 3
        when none failed but some were held back by the budget (see ``exit_status``).
    """
    plan = _load(args)
    if not isinstance(plan, Plan):
        return plan
    if args.dry_run:
        return _dry_run(args, plan)
    options = _options(args)
    if options is None:
        return _bad_input(args, args.file, [Problem(0, "--kinds takes audio, image, video")])
    manifest = Path(args.manifest) if args.manifest else options.out / "manifest.jsonl"
    tracker = Tracker(plan, target=f" · {where}")
    console = None if args.json else make_console()
    display = _display(tracker, console)
    on_interrupt(lambda: _interrupted(tracker, args, resume, manifest))
    rows = await _execute(args, open_client, where, (plan, tracker, display, options, manifest))
    code = exit_status(tracker)
    held = _held_back(tracker, args, resume)
    if args.json:
        _print_json(tracker, code, manifest, held, rows)
    elif console is not None:
        console.print()
        print_summary(
            tracker, console, out=options.out if args.download else None, manifest=manifest
        )
        if held:
            print(held["message"], file=sys.stderr)
    _unknown_hint(args, tracker)
    return code


def _print_json(
    tracker: Tracker, code: int, manifest: Path, held: dict[str, Any], rows: list[dict[str, Any]]
) -> None:
    """The whole run as one JSON document (``--json``)."""
    print(
        json.dumps(
            {
                "ok": code == 0,
                "exit_code": code,
                "input": tracker.plan.path,
                "counts": dict(tracker.counts()),
                "credits": tracker.spent,
                "elapsed": round(tracker.elapsed, 3),
                "manifest": str(manifest),
                **({"not_sent": held} if held else {}),
                "results": rows,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


def read_plan(args: argparse.Namespace) -> Plan | int:
    """The plan of ``args.file``, or the exit status of bad input (reported; nothing sent)."""
    try:
        return load_plan(args.file, fmt=args.format, mv=args.mv)
    except InputError as exc:
        return _bad_input(args, exc.path, exc.problems)
    except OSError as exc:
        return _bad_input(args, args.file, [Problem(0, exc.strerror or str(exc))])


def _load(args: argparse.Namespace) -> Plan | int:
    """The checked plan of ``args.file``, or the exit status of bad input (nothing sent)."""
    plan = read_plan(args)
    if isinstance(plan, int):
        return plan
    if args.concurrency < 1 or (args.budget is not None and args.budget < 0):
        return _bad_input(
            args,
            args.file,
            [Problem(0, "--concurrency must be at least 1 and --budget not negative")],
        )
    return plan


def _options(args: argparse.Namespace) -> BulkOptions | None:
    """The run's options, or None when ``--kinds`` names an unknown kind of file."""
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not set(kinds) <= {"audio", "image", "video"}:
        return None
    return BulkOptions(
        concurrency=args.concurrency,
        timeout=args.timeout,
        budget=args.budget,
        out=Path(args.out),
        download=args.download,
        kinds=kinds,
    )


def _display(tracker: Tracker, console: Any) -> Display:
    """A live display on a terminal, plain lines otherwise, nothing with ``--json``."""
    display: Display = QuietDisplay()
    if console is not None:
        live = console.is_terminal and not console.is_dumb_terminal
        display = LiveDisplay(tracker, console) if live else PlainDisplay(tracker)
    tracker.listen(display.event)
    return display


_Parts = tuple[Plan, Tracker, Display, BulkOptions, Path]


async def _execute(
    args: argparse.Namespace, open_client: OpenClient, where: str, parts: _Parts
) -> list[dict[str, Any]]:
    """Open the journal and the client, run the plan, and write the manifest's rows."""
    plan, tracker, display, options, manifest = parts
    if args.journal:
        Path(args.journal).parent.mkdir(parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        journal = (
            await stack.enter_async_context(SQLiteJournal(args.journal)) if args.journal else None
        )
        api = await stack.enter_async_context(open_client(MusicAPI))
        credits = await api.get_credits()  # a refused key stops here, before any request
        tracker.target = f" · {where} · {credits.total} credits"
        display.start()
        try:
            await run_plan(api, plan, tracker, options, journal)
        except BaseException:
            tracker.interrupted = True
            raise
        finally:
            tracker.end()
            display.stop()
            # Built while the client is open: its key is scrubbed from every row.
            rows = manifest_rows(tracker)
            write_manifest(rows, manifest)
    return rows


def _unknown_hint(args: argparse.Namespace, tracker: Tracker) -> None:
    """Say how to settle the lines whose outcome is unknown (maybe billed)."""
    unknown = [i for i in tracker.items if isinstance(i.error, SubmissionOutcomeUnknown)]
    if unknown and not args.json:
        from ._reconcile import reconcile_hint

        print(
            f"musicapi: {len(unknown)} line(s) were sent but their outcome is unknown "
            "(they may have been billed); they are never sent again by themselves. "
            + (
                f"Settle them with:\n  {reconcile_hint(args.journal)}"
                if args.journal
                else "Check the dashboard before sending them again."
            ),
            file=sys.stderr,
        )


def _held_back_items(tracker: Tracker) -> list[Item]:
    """Lines not sent for lack of budget or credits, or because a line they need was not."""
    by_id = {i.line.ident: i for i in tracker.items if i.line.ident}
    held: list[Item] = []
    held_ids: set[str] = set()
    waves = [tracker.by_number[line.number] for wave in tracker.plan.waves for line in wave]
    for item in waves:  # wave order: a line comes after the lines it refers to
        if item.phase is Phase.SKIPPED and (
            not_sent(item.error)
            or (item.error is None and any(d in held_ids for d in item.line.deps if d in by_id))
        ):
            held.append(item)
            if item.line.ident:
                held_ids.add(item.line.ident)
    return sorted(held, key=lambda i: i.line.number)


def exit_status(tracker: Tracker) -> int:
    """0 every line done; 1 a line failed (or its files did); 3 none failed but some were
    held back by ``--budget`` or an account out of credits (run again to send them)."""
    held = {id(i) for i in _held_back_items(tracker)}
    if any(
        i.phase is Phase.FAILED
        or (i.phase is Phase.DONE and i.download_error)
        or (i.phase is Phase.SKIPPED and id(i) not in held)
        or not i.phase.finished
        for i in tracker.items
    ):
        return 1
    return 3 if held else 0


def _held_back(tracker: Tracker, args: argparse.Namespace, resume: str) -> dict[str, Any]:
    """What was not sent for lack of budget or credits, and how to send it later."""
    held = _held_back_items(tracker)
    refused = [
        i
        for i in tracker.items
        if isinstance(i.error, InsufficientCredits) and not not_sent(i.error)
    ]
    if not held and not refused:
        return {}
    lines = [i.line.number for i in (*refused, *held)]
    numbers = ", ".join(str(n) for n in sorted(lines)[:20]) + ("…" if len(lines) > 20 else "")
    if refused:
        cause = (
            f"The account ran out of credits: {len(refused)} line(s) were refused "
            f"(nothing billed) and {len(held)} more were not sent (lines {numbers})."
        )
        step = "Top up (`musicapi credits` shows the balance), then"
    else:
        cause = (
            f"{len(held)} line(s) did not fit --budget {args.budget} and were not sent "
            f"(lines {numbers})."
        )
        step = "With a larger --budget,"
    if args.journal:
        how = f"{step} resume; lines already done are not sent again:\n  {resume}"
    else:
        how = (
            f"{step} send lines {numbers} again. This run had no --journal, so the same "
            "command would send every line again, the finished ones included; add "
            "--journal PATH to make a run resumable."
        )
    return {
        "lines": sorted(lines),
        "resume": resume if args.journal else None,
        "message": f"musicapi: {cause}\n{how}",
    }


def _bad_input(args: argparse.Namespace, path: str, problems: list[Problem]) -> int:
    if args.json:
        print(
            json.dumps(
                {
                    "ok": False,
                    "exit_code": 2,
                    "input": path,
                    "problems": [{"line": p.number, "message": p.message} for p in problems],
                },
                indent=2,
            )
        )
        return 2
    for problem in problems:
        where = f"{path}:{problem.number}" if problem.number else f"musicapi: error: {path}"
        print(f"{where}: {problem.message}", file=sys.stderr)
    if any(p.number for p in problems):
        print(
            f"musicapi: {len(problems)} bad line(s) in {path}; nothing was sent.", file=sys.stderr
        )
    return 2


def budget_fit(plan: Plan, budget: int | None) -> list[Line]:
    """The lines a run with ``budget`` would not send, as ``run_plan`` decides: in wave
    order, each line that still fits what is left is sent (the budget is filled, not given
    up at the first line that does not fit); a line that needs a held-back one is not."""
    if budget is None:
        return []
    left = budget
    held: list[Line] = []
    held_ids: set[str] = set()
    for wave in plan.waves:
        for line in wave:
            cost = line.cost()
            if any(dep in held_ids for dep in line.deps) or cost > left:
                held.append(line)
                if line.ident:
                    held_ids.add(line.ident)
            else:
                left -= cost
    return held


def _dry_run(args: argparse.Namespace, plan: Plan) -> int:
    waves = [
        [
            {
                "line": line.number,
                "id": line.ident,
                "kind": line.kind,
                "request": to_wire(line.request()),
                "credits": line.cost(),
            }
            for line in wave
        ]
        for wave in plan.waves
    ]
    held = budget_fit(plan, args.budget)
    warning = None
    if held:
        warning = (
            f"over budget: the plan costs {plan.cost()} credits and --budget is "
            f"{args.budget}; {len(held)} line(s) would not be sent: "
            + ", ".join(line.name for line in held)
        )
    if args.json:
        print(
            json.dumps(
                {
                    "ok": True,
                    "input": plan.path,
                    "requests": len(plan.lines),
                    "credits": plan.cost(),
                    "budget": args.budget,
                    "not_sent": [line.number for line in held],
                    **({"warning": warning} if warning else {}),
                    "waves": waves,
                },
                indent=2,
            )
        )
        return 0
    for number, wave in enumerate(plan.waves, start=1):
        print(f"Wave {number}: " + ", ".join(line.name for line in wave))
    print(
        f"{len(plan.lines)} requests in {len(plan.waves)} wave(s), {plan.cost()} credits at "
        "the documented prices; nothing was sent (--dry-run)."
    )
    if warning:
        print(f"musicapi: warning: {warning}", file=sys.stderr)
    return 0


def _interrupted(tracker: Tracker, args: argparse.Namespace, resume: str, manifest: Path) -> None:
    def say(text: str = "") -> None:
        print(text, file=sys.stderr, flush=True)

    say("\nInterrupted: nothing more is being sent.")
    flying = tracker.in_flight()
    if flying:
        say(f"{len(flying)} task(s) were in flight; they keep running upstream:")
        for item, task_id in flying:
            say(f"  {item.line.name if item else 'an earlier run'}: task {task_id}")
    if args.emulator:
        say(
            "They ran on the in-process emulator, which stopped with this run. Against a "
            "server that outlives the run, resume with --journal."
        )
    elif args.journal:
        say("Resume with the same command; nothing already accepted is sent again:")
        say(f"  {resume}")
    else:
        say(
            "Without --journal a rerun sends every request again; follow these tasks with "
            "`musicapi wait TASK_ID`, and add --journal PATH next time to make runs "
            "resumable."
        )
    say(f"Manifest so far: {manifest}")
