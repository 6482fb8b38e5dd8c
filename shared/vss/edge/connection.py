"""Where the edge CLI finds the API and its credentials: a flag, else the environment
(`VSS_API_URL`, `VSS_INSTANCE_ID`, `VSS_API_KEY`), else the local stack's `.vss/local.env`
(which `vss.cli` loads into the environment without overriding it, so it comes last)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from vss.edge.errors import EdgeError

#: setting -> (flag, environment variable)
SOURCES = {
    "api_url": ("--api-url", "VSS_API_URL"),
    "instance_id": ("--instance-id", "VSS_INSTANCE_ID"),
    "api_key": ("--api-key", "VSS_API_KEY"),
}



class ConnectionUnset(EdgeError, ValueError):
    """The CLI cannot tell which API to call or as whom; the message says how to set it."""


@dataclass(frozen=True)
class Connection:
    api_url: str
    instance_id: str
    api_key: str

    def __repr__(self) -> str:  # the key must not reach a log or a traceback
        return f"Connection(api_url={self.api_url!r}, instance_id={self.instance_id!r})"


def resolve_connection(flags: Mapping[str, str | None], environ: Mapping[str, str]
                       ) -> Connection:
    """Each setting from its flag, else its environment variable; every missing one named."""
    values: dict[str, str] = {}
    missing = []
    for name, (flag, variable) in SOURCES.items():
        value = flags.get(name) or environ.get(variable, "")
        if value.strip():
            values[name] = value.strip()
        else:
            missing.append(f"{flag} or {variable}")
    if missing:
        raise ConnectionUnset(
            f"missing {', '.join(missing)} (the local stack's .vss/local.env sets VSS_API_URL; "
            "`vss admin create-tenant` prints an instance id and key)")
    url = urlparse(values["api_url"])
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ConnectionUnset(f"the API URL must be http(s)://host[:port], got "
                               f"{values['api_url']!r}")
    return Connection(api_url=values["api_url"].rstrip("/"), instance_id=values["instance_id"],
                      api_key=values["api_key"])
