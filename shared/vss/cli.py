"""`vss` console script: tenant administration and an edge client.

    vss admin create-tenant --name NAME      -> {"tenant_id","instance_id","api_key"}
    vss admin add-instance --tenant ID       -> a second edge instance of a tenant
    vss admin list-tenants | list-instances [--tenant ID]
    vss admin rotate-key INSTANCE_ID | revoke-key INSTANCE_ID
    vss admin console-token [--minutes N]    -> a token the console's login page accepts
    vss admin set-quota TENANT_ID [--running-tasks N] [--tasks-per-hour N]
            [--upload-bytes-per-day N] [--tts-characters-per-day N] [--llm-tokens-per-day N]
                                             -> the tenant's limits, overridden (N, `unlimited`,
                                                or `default` to take VSS_QUOTA_* again)
    vss admin show-quota TENANT_ID           -> its limits, overrides and what it uses now
    vss import-subtitles EP1.srt EP2.ass ... --out dataset.json [--gap SECONDS] [--title T]
                                             -> a NarrativeDataset built from subtitle files
    vss render EDITING_SCRIPT --media DIR --out OUT.mp4 [--audio DIR] [--dataset D] [--dubbing S]
                                             -> the video, checked, its report and review page;
                                                the timeline exports beside the script linked
                                                to the media beside the video
    vss render TIMELINE.otio --out OUT.mp4 [--media DIR] [--audio DIR]
                                             -> the same of the exported OTIO timeline (its
                                                linked files, else those in --media)
    vss export DIR --media DIR [--audio DIR] [--dataset D] [--out DIR]
                                             -> the timeline exports in DIR linked to the media
    vss demo-media DATASET --out DIR [--editing-script S]
                                             -> a placeholder episode file per chapter (with
                                                S: only the ranges its clips read, handles too)
    vss upload FILE                          -> its relative_path (signed-URL upload)
    vss task create TYPE --payload JSON|@FILE | get | wait | cancel | resume ID
    vss run DATASET --out DIR [--until narration|dubbing|editing] [--lang --minutes --style
            --focus --template --voice ... --media DIR]
                                             -> narration, dubbing and editing artifacts in DIR,
                                                verified; run again to continue or resume (with
                                                --media: the timeline exports linked)

The API commands take --api-url, --instance-id, --api-key, else VSS_API_URL, VSS_INSTANCE_ID,
VSS_API_KEY, and --json to print JSON for scripts.

Reads the local stack's `.vss/local.env` when there is one in the current directory or a parent
(or in `$VSS_STATE_DIR`), so it talks to the local stack after `make up`. Every error is one
line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from vss.config import load_local_env

if TYPE_CHECKING:
    from vss.deps import Deps

USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`vss: error: ...`), still exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _record_id(text: str) -> str:
    """A tenant or instance id, checked by the one id rule before any lookup."""
    from vss.domain.ids import is_valid_id

    if not is_valid_id(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a valid id")
    return text


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _admin(args: argparse.Namespace, deps: Deps | None) -> int:
    from vss.bootstrap import ports_alone
    from vss.config import get_settings
    from vss.domain.quotas import Quota
    from vss.errors import BadRequest, NotFound
    from vss.service import auth, quotas

    if args.action == "console-token":
        return _console_token(args.minutes, deps)
    deps = deps or ports_alone(get_settings())
    if args.action == "create-tenant":
        creds = auth.create_tenant(deps, args.name)
    elif args.action == "add-instance":
        if all(t.id != args.tenant for t in deps.tenants.list_tenants()):
            raise NotFound(f"Tenant {args.tenant} does not exist.")
        creds = auth.add_instance(deps, args.tenant)
    elif args.action == "rotate-key":
        creds = auth.rotate_key(deps, args.instance_id)
    elif args.action == "revoke-key":
        instance = auth.revoke_key(deps, args.instance_id)
        _print({"instance_id": instance.id, "active": instance.active})
        return 0
    elif args.action == "set-quota":
        changes = {quota: getattr(args, quota.value) for quota in Quota
                   if getattr(args, quota.value) is not _UNCHANGED}
        if not changes:
            raise BadRequest("Name at least one quota to set (see --help).")
        quotas.set_quotas(deps, args.tenant_id, changes)
        _print(quotas.report(deps, args.tenant_id).as_json())
        return 0
    elif args.action == "show-quota":
        _print(quotas.report(deps, args.tenant_id).as_json())
        return 0
    elif args.action == "list-tenants":
        _print([t.model_dump(mode="json") for t in deps.tenants.list_tenants()])
        return 0
    else:  # list-instances: never print key material, not even the hash
        _print([i.model_dump(mode="json", exclude={"key_hash"})
                for i in deps.tenants.list_instances(args.tenant)])
        return 0
    _print({"tenant_id": creds.tenant_id, "instance_id": creds.instance_id,
            "api_key": creds.api_key})
    return 0


def _console_token(minutes: int, deps: Deps | None) -> int:
    from datetime import UTC, datetime

    from vss.config import get_settings
    from vss.console.tokens import issue_token
    from vss.errors import BadRequest

    settings = deps.settings if deps else get_settings()
    if settings.console_secret is None:
        raise BadRequest("Set VSS_CONSOLE_SECRET (the console's own) to print a console token.")
    now = deps.clock() if deps else datetime.now(UTC)
    print(issue_token(settings.console_secret.get_secret_value(), now, minutes))
    return 0


_UNCHANGED = object()  # a quota option not given: the override stays as it is


def _override(text: str) -> int | str | None:
    """A quota option's value: N (0 or more), `unlimited`, or `default` (None)."""
    from vss.domain.quotas import parse_override

    try:
        return parse_override(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a limit: a number (0 or more), 'unlimited' or 'default'"
        ) from None


def _minutes(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 24 * 60:
        raise argparse.ArgumentTypeError(f"must be 1 to 1440 minutes, got {text}")
    return value


def _import_subtitles(args: argparse.Namespace) -> int:
    from vss.errors import PayloadInvalid
    from vss.narration.subtitles import import_subtitles

    try:
        document = import_subtitles(args.files, gap_seconds=args.gap, title=args.title)
    except PayloadInvalid as exc:
        for error in exc.details.get("errors", []):
            print(f"vss import-subtitles: {error['reason']} ({error['pointer']})", file=sys.stderr)
        return 2
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    scenes = document["scenes"].values()
    lines = sum(len(scene["dialogues"]) for scene in scenes)
    print(f"vss import-subtitles: {len(document['chapters'])} episodes, {len(scenes)} scenes, "
          f"{lines} dialogue lines -> {args.out}", file=sys.stderr)
    return 0


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vss", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("admin", help="tenants, instances and API keys")
    actions = admin.add_subparsers(dest="action", required=True)
    actions.add_parser("create-tenant").add_argument("--name", required=True)
    actions.add_parser("add-instance").add_argument("--tenant", required=True, type=_record_id)
    actions.add_parser("list-tenants")
    actions.add_parser("list-instances").add_argument("--tenant", type=_record_id)
    actions.add_parser("rotate-key").add_argument("instance_id", type=_record_id)
    actions.add_parser("revoke-key").add_argument("instance_id", type=_record_id)
    set_quota = actions.add_parser(
        "set-quota", help="override a tenant's quotas",
        description="Each option takes a number (0 refuses everything), `unlimited`, or "
                    "`default` (the VSS_QUOTA_* setting applies again); quotas not named keep "
                    "their override. Prints the tenant's quotas afterwards.")
    set_quota.add_argument("tenant_id", type=_record_id)
    from vss.domain.quotas import Quota

    for quota in Quota:
        set_quota.add_argument(f"--{quota.value.replace('_', '-')}", dest=quota.value,
                               type=_override, default=_UNCHANGED, metavar="N")
    actions.add_parser("show-quota", help="a tenant's quotas and what it uses now").add_argument(
        "tenant_id", type=_record_id)
    actions.add_parser("console-token").add_argument(
        "--minutes", type=_minutes, default=30, help="how long it opens the console (default 30)")
    subs = commands.add_parser(
        "import-subtitles", help="build a NarrativeDataset from SRT/ASS/VTT episodes",
        description="One chapter per file, in the order given; scenes split at dialogue gaps.")
    subs.add_argument("files", nargs="+", type=Path, help="subtitle files, in episode order")
    subs.add_argument("--out", required=True, type=Path, help="where to write the dataset JSON")
    subs.add_argument("--gap", type=_seconds, default=4.0,
                      help="silence (seconds) that starts a new scene (default: 4)")
    subs.add_argument("--title", help="the asset and project name (default: from file names)")
    from vss.edge.api_commands import add_api_commands
    from vss.edge.commands import add_edge_commands

    add_edge_commands(commands)
    add_api_commands(commands)
    return parser


def main(argv: list[str] | None = None, deps: Deps | None = None) -> int:
    """Run one command; `deps` replaces the real adapters (tests pass fakes)."""
    from vss.errors import VssError

    load_local_env()
    args = _parser().parse_args(argv)
    try:
        if args.command == "import-subtitles":
            return _import_subtitles(args)
        if args.command in ("render", "export", "demo-media"):
            from vss.edge.commands import run_edge_command

            return run_edge_command(args)
        if args.command in ("upload", "task", "run", "smoke"):
            from vss.edge.api_commands import run_api_command

            return run_api_command(args)
        return _admin(args, deps)
    except Exception as exc:  # one clear line, not a traceback, for an operator
        text = exc.message if isinstance(exc, VssError) else f"{type(exc).__name__}: {exc}"
        print(f"vss: {' '.join(text.split())}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
