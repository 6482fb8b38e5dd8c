"""The API commands of the `vss` console script: `upload`, `task create|get|wait|cancel|resume`
and `run`. Each error is one line on stderr with the server's code, exit code 2; `--json` puts
the machine-readable answer (or `{"error": ...}`) on stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

USAGE_ERROR = 2
RUN_STAGES = ("narration", "dubbing", "editing")
PARAM_STAGES = ("narration", "dubbing", "editing")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _rate(text: str) -> float:
    """`500k`, `2M`, `1000000`: bytes per second."""
    units = {"k": 1e3, "m": 1e6, "g": 1e9}
    scale = units.get(text[-1:].lower(), 1.0)
    number = text[:-1] if text[-1:].lower() in units else text
    return _positive(number) * scale


def _param(text: str) -> tuple[str, list[str], Any]:
    """`editing.max_clip_seconds=4` -> ("editing", ["max_clip_seconds"], 4)."""
    key, sep, raw = text.partition("=")
    stage, _, rest = key.partition(".")
    if not sep or stage not in PARAM_STAGES or not rest:
        raise argparse.ArgumentTypeError(
            f"expected STAGE.KEY=VALUE with STAGE one of {', '.join(PARAM_STAGES)}, got {text}")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw  # a bare word is a string
    return stage, rest.split("."), value


def _connection_flags() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection (else VSS_API_URL, VSS_INSTANCE_ID, "
                                      "VSS_API_KEY, else .vss/local.env)")
    group.add_argument("--api-url", help="the API's base URL, e.g. http://127.0.0.1:8090")
    group.add_argument("--instance-id", help="this edge instance's id")
    group.add_argument("--api-key", help="this edge instance's API key")
    common.add_argument("--json", action="store_true",
                        help="print JSON on stdout (no progress display)")
    return common


def add_api_commands(commands: Any) -> None:
    common = _connection_flags()
    upload = commands.add_parser("upload", parents=[common], help="upload a file (signed URL)",
                                 description="Upload through a signed URL; prints the file's "
                                 "relative_path, the name tasks take as input.")
    upload.add_argument("file", type=Path)

    task = commands.add_parser("task", help="create, inspect, wait for, cancel or resume a task")
    actions = task.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[common], help="create a task")
    create.add_argument("task_type", help="e.g. GENERATE_COMMENTARY, GENERATE_NARRATION")
    create.add_argument("--payload", required=True,
                        help="the payload: JSON text, or @FILE to read it from a file")
    create.add_argument("--wait", action="store_true", help="then wait for it, as `task wait`")
    create.add_argument("--idempotency-key", metavar="KEY",
                        help="the Idempotency-Key to send (default: a fresh one, reused by the "
                        "command's own retries); give the same KEY to run the command again "
                        "without risk of a second task")
    for name, text in (("get", "show a task"), ("wait", "wait until a task ends, with progress"),
                       ("cancel", "cancel a task"),
                       ("resume", "restart a FAILED task at its failed stage")):
        action = actions.add_parser(name, parents=[common], help=text)
        action.add_argument("task_id")
        if name == "wait":
            action.add_argument("--timeout", type=_positive, default=3600.0,
                                help="seconds to wait (default: 3600)")

    smoke = commands.add_parser(
        "smoke", parents=[common], help="check a deployment end to end (after terraform apply)",
        description="Run the edge's whole workflow against the API: upload, narration, "
        "dubbing, every WAV, editing, the chained commentary task and a resume, each download "
        "checked against the sha256 its task recorded. One line per step with its timing; "
        "exit code 0 when every step passed.")
    smoke.add_argument("dataset", type=Path, help="a dataset to run on (e.g. the bundled "
                       "examples/blueprint_contract_girlfriend.json)")
    smoke.add_argument("--minutes", type=_positive, default=1.0,
                       help="the narration's target length (default: 1)")
    smoke.add_argument("--timeout", type=_positive, default=900.0,
                       help="seconds each task may take (default: 900)")

    run = commands.add_parser(
        "run", parents=[common], help="dataset in, narration + dubbing + editing out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Upload DATASET, run the chained commentary task (narration, dubbing, "
        "editing) and download every artifact into OUT, verified.\n\nRun it again with the "
        "same arguments to continue: a finished upload, task or download is not redone, and a "
        "FAILED task is resumed at its failed stage. State: OUT/.vss-run.json.")
    run.add_argument("dataset", type=Path, help="the dataset (blueprint or NarrativeDataset)")
    run.add_argument("--out", required=True, type=Path, help="folder for the artifacts")
    run.add_argument("--until", choices=RUN_STAGES, default="editing",
                     help="the last stage to run (default: editing)")
    narration = run.add_argument_group("narration")
    narration.add_argument("--lang", choices=("zh", "en"), help="language (default: zh)")
    narration.add_argument("--minutes", type=_positive, help="target narration length")
    narration.add_argument("--style", help="humorous, serious, suspense, sarcastic, emotional, "
                           "healing, ...")
    narration.add_argument("--focus", help="narrative focus: romantic_progression, "
                           "business_success, suspense_reveal, character_growth, revenge_plot")
    narration.add_argument("--perspective", choices=("third_person", "first_person"))
    narration.add_argument("--character", help="the narrator, with --perspective first_person")
    narration.add_argument("--episodes", help="only these episodes: 3-7, or 4")
    narration.add_argument("--scenes", help="only these scenes: 1,2,5-9")
    narration.add_argument("--model", help="the Gemini model (when the API has one configured)")
    narration.add_argument("--asset-name", help="default: the dataset's file name")
    voice = run.add_argument_group("dubbing")
    voice.add_argument("--template", help="voice template (default: the API's default)")
    voice.add_argument("--voice", help="voice name, for templates that take one")
    voice.add_argument("--speed", type=_positive, help="tempo multiplier, 0.5-2.0")
    editing = run.add_argument_group("editing")
    editing.add_argument("--fps", type=_positive, help="frame rate of the episodes (default: 25)")
    editing.add_argument("--media", type=Path,
                         help="folder of the episode files: link the timeline exports to them "
                         "(and to the narration WAVs) once downloaded, as `vss export` does")
    run.add_argument("--param", type=_param, action="append", default=[],
                     metavar="STAGE.KEY=VALUE",
                     help="any other service parameter, e.g. editing.max_clip_seconds=4 or "
                     "narration.control_params.custom_prompts='{\"tone\": \"dry\"}'")
    transfer = run.add_argument_group("transfer")
    transfer.add_argument("--parallel", type=int, default=4, help="downloads at once (4)")
    transfer.add_argument("--limit-rate", type=_rate, metavar="RATE",
                          help="cap on download bandwidth in bytes/s: 500k, 2M")
    transfer.add_argument("--timeout", type=_positive, default=3600.0,
                          help="seconds to wait for the task (default: 3600)")
    transfer.add_argument("--fresh", action="store_true",
                          help="ignore the state file: upload again and start a new task")
    transfer.add_argument("--no-resume", dest="resume", action="store_false",
                          help="do not resume a FAILED task of an earlier run: report it")


def _set(target: dict[str, Any], keys: list[str], value: Any) -> None:
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = value


def commentary_payload(args: argparse.Namespace) -> dict[str, Any]:
    """The GENERATE_COMMENTARY payload (without `blueprint_path`): only what was asked for,
    so the API's defaults apply to the rest."""
    control: dict[str, Any] = {}
    for flag, key in (("minutes", "target_duration_minutes"), ("style", "style"),
                      ("focus", "narrative_focus"), ("perspective", "perspective"),
                      ("character", "perspective_character")):
        if getattr(args, flag) is not None:
            control[key] = getattr(args, flag)
    if args.episodes and args.scenes:
        raise ValueError("give --episodes or --scenes, not both")
    if args.episodes:
        control["scope"] = {"type": "episode_range", "value": args.episodes}
    elif args.scenes:
        control["scope"] = {"type": "scene_selection", "value": args.scenes}
    narration: dict[str, Any] = {"control_params": control} if control else {}
    dubbing: dict[str, Any] = {}
    editing: dict[str, Any] = {}
    if args.lang:
        narration["lang"] = dubbing["target_lang"] = editing["lang"] = args.lang
    for flag, target, key in (("model", narration, "model"), ("template", dubbing,
                              "template_name"), ("voice", dubbing, "voice_name"),
                              ("speed", dubbing, "speaking_rate"), ("fps", editing, "fps")):
        if getattr(args, flag) is not None:
            target[key] = getattr(args, flag)
    params = {"narration": narration, "dubbing": dubbing, "editing": editing}
    for stage, keys, value in args.param:
        _set(params[stage], keys, value)
    payload: dict[str, Any] = {"asset_name": args.asset_name or args.dataset.stem,
                               "stop_at": args.until}
    payload.update({stage: body for stage, body in params.items() if body})
    return payload


def _client(args: argparse.Namespace) -> tuple[Any, Any]:
    from vss.edge.client import EdgeClient
    from vss.edge.connection import resolve_connection

    connection = resolve_connection(
        {"api_url": args.api_url, "instance_id": args.instance_id, "api_key": args.api_key},
        os.environ)
    return EdgeClient(connection.api_url, connection.instance_id, connection.api_key), connection


def _display(args: argparse.Namespace) -> Any:
    from vss.edge.progress import QuietDisplay, RichDisplay

    return QuietDisplay() if args.json else RichDisplay()


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _payload(text: str) -> dict[str, Any]:
    raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"--payload is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError("--payload must be a JSON object")
    return value


def run_api_command(args: argparse.Namespace) -> int:
    """Run one API command; errors are reported here, one line each."""
    from vss.edge.errors import describe_failure, report

    try:
        if args.command == "upload":
            return _upload(args)
        if args.command == "task":
            return _task(args)
        if args.command == "smoke":
            return _smoke(args)
        return _run(args)
    except KeyboardInterrupt:
        print("vss: interrupted: run the same command again to continue", file=sys.stderr)
        return 130
    except Exception as exc:
        line, body = describe_failure(exc)
        return report(line, body, as_json=args.json)


def _smoke(args: argparse.Namespace) -> int:
    from vss.edge.smoke import SmokeFailed, SmokeRun

    client, connection = _client(args)
    print(f"smoke test of {connection.api_url}")
    run = SmokeRun(client, args.dataset, task_timeout=args.timeout, minutes=args.minutes)
    try:
        steps = run.run()
    except SmokeFailed:
        return 1
    print(f"all {len(steps)} steps passed in {sum(s.seconds for s in steps):.1f} s")
    return 0


def _upload(args: argparse.Namespace) -> int:
    from vss.edge.client import content_type_of

    client, _ = _client(args)
    signed = client.upload_signed(args.file, content_type_of(args.file))
    if args.json:
        _print_json({"relative_path": signed["relative_path"],
                     "expires_at": signed.get("expires_at")})
    else:
        print(signed["relative_path"])
    return 0


def _task(args: argparse.Namespace) -> int:
    from vss.edge.follow import follow
    from vss.edge.progress import stage_line
    from vss.edge.run import TaskEnded

    client, _ = _client(args)
    if args.action == "create":
        from vss.edge.creation import create_task, new_key

        view = create_task(client, args.task_type, _payload(args.payload),
                           new_key() if args.idempotency_key is None else args.idempotency_key)
        if not args.wait:
            _print_json(view) if args.json else print(view["id"])
            return 0
        args.timeout = 3600.0
    elif args.action == "get":
        view = client.get_task(args.task_id)
    elif args.action == "cancel":
        view = client.cancel_task(args.task_id)
    elif args.action == "resume":
        view = client.resume_task(args.task_id)
    else:
        view = client.get_task(args.task_id)
    if args.action in ("wait", "create"):
        display = _display(args)
        try:
            view = follow(client, view, display, timeout=args.timeout)
        finally:
            display.close()
    if args.action in ("wait", "create") and view["status"] != "COMPLETED":
        raise TaskEnded(view)  # reported with the task's error (and the view, with --json)
    if args.json:
        _print_json(view)
    else:
        print(f"{view['id']}  {view['task_type']}  {stage_line(view)}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from vss.edge.run import CommentaryRun, RunOptions
    from vss.edge.summary import print_run_summary

    if not args.dataset.is_file():
        raise ValueError(f"{args.dataset}: no such file")
    if args.parallel < 1:
        raise ValueError("--parallel must be at least 1")
    client, connection = _client(args)
    options = RunOptions(dataset=args.dataset, out=args.out, payload=commentary_payload(args),
                         parallel=args.parallel, limit_rate=args.limit_rate,
                         timeout=args.timeout, fresh=args.fresh, resume=args.resume)
    display = _display(args)
    try:
        outcome = CommentaryRun(client, options, display, api_url=connection.api_url,
                                instance_id=connection.instance_id).run()
    finally:
        display.close()
    if args.json:
        _print_json(outcome.summary())
    else:
        print_run_summary(outcome)
    if args.media is not None:
        from vss.edge.commands import CHECK_FAILED, link_exports_for, print_linked

        linked = link_exports_for(args.out, args.out, args.media, args.out, args.dataset)
        print_linked("run", linked)
        return CHECK_FAILED if linked.missing else 0
    return 0
