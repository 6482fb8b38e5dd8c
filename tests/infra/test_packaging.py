"""`make package`: one deterministic zip per function, laid out the way the Python buildpack
and functions-framework expect, holding only what the function imports, plus the tfvars file
Terraform reads."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import time
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tests.support import clean_env
from tests.support.paths import ROOT
from tests.support.scripts import load_script
from tests.support.terraform import entry_points, root

FUNCTIONS = sorted(entry_points())
CLOUD_EVENT_FUNCTIONS = sorted(n for n, (_, kind) in entry_points().items() if kind != "http")
# Audio, video and subtitle libraries: the dubbing and editing side, never the edge API (it
# does load numpy: the story index it searches is numpy arrays).
MEDIA_LIBRARIES = {
    "pysubs2", "pyloudnorm", "soundfile", "opentimelineio", "google-cloud-texttospeech",
}
# What builds a story index: the stage worker's, never the API's (it only searches one).
INDEX_BUILDERS = {"bm25s"}
PROJECT = "vss-packaging-check"
# What Terraform sets on every function (wired_environment in infra/terraform/main.tf), with
# plausible values; stage_worker's Gemini key is read on first use, not at import.
DEPLOYED_ENV = {
    "VSS_PROJECT_ID": PROJECT,
    "VSS_REGION": "europe-west1",
    "VSS_UPLOADS_BUCKET": f"{PROJECT}-vss-uploads",
    "VSS_ARTIFACTS_BUCKET": f"{PROJECT}-vss-artifacts",
    "VSS_STAGES_TOPIC": "vss-stages",
    "VSS_SEGMENTS_TOPIC": "vss-segments",
    "VSS_DEADLINE_QUEUE": "vss-deadlines",
    "VSS_DEADLINE_URL": "https://vss-deadline-123456789012.europe-west1.run.app",
    "VSS_TASK_RETENTION_DAYS": "90",
    "VSS_FILE_RETENTION_DAYS": "30",
    "VSS_DEADLINE_SERVICE_ACCOUNT": f"vss-deadline-invoker@{PROJECT}.iam.gserviceaccount.com",
    "VSS_TTS_CONCURRENCY": "4",
    "VSS_SEGMENT_LEASE_SECONDS": "120",
    "VSS_SEGMENT_MAX_ATTEMPTS": "5",
    "VSS_EMBEDDING_MODEL": "gemini-embedding-001",
    "VSS_EMBEDDING_DIMENSIONS": "768",
}
CONSOLE_AUDIENCE = "/projects/123456789012/global/backendServices/4242"
# What Terraform gives one function alone on top: the console's secret (from Secret Manager)
# and the audience of its IAP assertions (local.function_environment).
FUNCTION_ENV = {
    "console": {
        "VSS_CONSOLE_SECRET": "packaging-check-secret",
        "VSS_CONSOLE_IAP_AUDIENCE": CONSOLE_AUDIENCE,
    },
}
CONSOLE_DIR = ROOT / "shared" / "vss" / "console"


@pytest.fixture(scope="module")
def packager() -> ModuleType:
    return load_script("package_functions")


@pytest.fixture(scope="module")
def index(packager: ModuleType):
    return packager.DistributionIndex.from_environment()


@pytest.fixture(scope="module")
def packaged(packager: ModuleType, index, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("functions")
    return out, packager.package(ROOT, out, index)


@pytest.fixture(scope="module")
def by_function(packaged) -> dict:
    return {a.function: a for a in packaged[1]}


def _names(requirements: tuple[str, ...]) -> set[str]:
    return {re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0].lower() for line in requirements}


def test_one_archive_per_function(packaged):
    out, archives = packaged
    assert {a.function for a in archives} == set(entry_points()) == set(root().locals["functions"])
    assert sorted(p.name for p in out.glob("*.zip")) == sorted(a.path.name for a in archives)


def test_archive_layout(packaged):
    _, archives = packaged
    for archive in archives:
        with zipfile.ZipFile(archive.path) as z:
            names = set(z.namelist())
            assert {"main.py", "vss/__init__.py", "requirements.txt"} <= names
            assert (
                z.read("main.py")
                == (ROOT / "functions" / archive.function / "main.py").read_bytes()
            )
            shared = sorted(n for n in names if n.startswith("vss/"))
            for name in shared:
                assert z.read(name) == (ROOT / "shared" / name).read_bytes(), name
            assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
            # A package's data files travel with it (the prompts are read as resources).
            inits = [n for n in shared if n.endswith("/__init__.py")]
            for package in (n.removesuffix("/__init__.py") for n in inits):
                source = ROOT / "shared" / package
                data = {f"{package}/{p.name}" for p in source.iterdir()
                        if p.is_file() and p.suffix not in {".py", ".pyc"}}
                assert data <= names, package
            assert z.testzip() is None


def test_requirements_are_pyproject_lines_in_pyproject_order(packaged):
    _, archives = packaged
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for archive in archives:
        with zipfile.ZipFile(archive.path) as z:
            lines = z.read("requirements.txt").decode().splitlines()
        listed = [line for line in lines if not line.startswith("#")]
        assert listed == list(archive.requirements)
        assert listed == [d for d in dependencies if d in listed]
        assert "functions-framework" in _names(archive.requirements)


def test_functions_ship_only_the_shared_modules_they_reach(by_function):
    with zipfile.ZipFile(by_function["api"].path) as z:
        api = set(z.namelist())
    with zipfile.ZipFile(by_function["on_upload"].path) as z:
        on_upload = set(z.namelist())
    assert "vss/api/app.py" in api and "vss/api/app.py" not in on_upload
    assert "vss/cli.py" not in api | on_upload  # the operator CLI runs on laptops only


def test_the_console_ships_its_templates_and_static_files(by_function):
    with zipfile.ZipFile(by_function["console"].path) as z:
        names = set(z.namelist())
        files = [p for folder in ("templates", "static") for p in (CONSOLE_DIR / folder).rglob("*")
                 if p.is_file()]
        assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".css" for p in files)
        for path in files:
            name = path.relative_to(ROOT / "shared").as_posix()
            assert name in names and z.read(name) == path.read_bytes(), name
    assert "vss/api/app.py" not in names  # the console is not the edge API
    assert "vss/cli.py" not in names


def test_the_console_installs_what_verifying_iap_assertions_needs(by_function):
    """IAP signs with ES256, which google-auth checks with `cryptography`: no import of ours
    names it, so it must come with what the console's requirements install."""
    requirements = by_function["console"].requirements
    assert {"flask", "itsdangerous", "google-auth"} <= _names(requirements)
    installed = set(clean_env.resolve(requirements))
    assert {"cryptography", "jinja2", "itsdangerous"} <= installed
    assert not installed & MEDIA_LIBRARIES


def test_the_api_installs_no_audio_or_video_library(by_function):
    direct = _names(by_function["api"].requirements)
    installed = set(clean_env.resolve(by_function["api"].requirements))
    assert not direct & MEDIA_LIBRARIES
    assert not installed & MEDIA_LIBRARIES, "a dependency of the API pulls one in"
    assert not direct & INDEX_BUILDERS


def test_only_the_functions_that_call_a_model_ship_its_client(by_function):
    """The API embeds the query of an embeddings story index's search; the functions wired
    with the ports alone (`vss.bootstrap.ports_alone`) call no model."""
    with_client = {f for f, a in by_function.items() if "google-genai" in _names(a.requirements)}
    assert with_client == {"api", "stage_worker", "tts_worker"}


@pytest.mark.parametrize("function", CLOUD_EVENT_FUNCTIONS)
def test_cloud_event_functions_pin_no_flask(function, by_function):
    """Flask and Werkzeug still get installed in a CloudEvent function, as dependencies of
    functions-framework, which serves every function over HTTP. What is checked: the
    function's requirements.txt pins neither, so none of its own code (main.py and the shared
    modules it reaches, lazy imports included) imports them."""
    assert not _names(by_function[function].requirements) & {"flask", "werkzeug"}


# --- a clean environment per function ------------------------------------------------------

# Runs in the clean interpreter: loads main.py the way functions-framework does in production
# and reports the files of every module loaded and any connection attempted (refused, and
# reported because a library may swallow the error).
_IMPORT_CHECK = textwrap.dedent("""
    import json, site, socket, sys

    attempts = []

    def refuse(sock, address):
        attempts.append(repr(address))
        raise OSError("no network while importing")

    socket.socket.connect = socket.socket.connect_ex = refuse
    site.addsitedir(sys.argv[1])  # the installed requirements, .pth files honoured
    import functions_framework

    functions_framework.create_app(target=sys.argv[2], source="main.py")
    files = sorted({getattr(m, "__file__", None) or "" for m in sys.modules.values()} - {""})
    print(json.dumps({"files": files, "connections": attempts}))
""")


@dataclass(frozen=True)
class Deployed:
    source: Path  # the extracted archive, the function's working directory
    site_packages: Path


@pytest.fixture(scope="module")
def credentials_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service-account key nobody can use: clients read it at import and fetch a token
    only on their first call, so it stands in for the metadata server offline."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path_factory.mktemp("credentials") / "key.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "0" * 40,
        "private_key": pem, "client_email": f"vss-functions@{PROJECT}.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token",
    }))
    return path


def _deploy(archive_path: Path, requirements: tuple[str, ...], into: Path) -> Deployed:
    deployed = Deployed(into / "workspace", into / "site-packages")
    with zipfile.ZipFile(archive_path) as z:
        z.extractall(deployed.source)
    clean_env.materialize(clean_env.resolve(requirements).values(), deployed.site_packages)
    return deployed


def _deployed_env(function: str, credentials: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": os.defpath, "HOME": str(home), "LANG": "C.UTF-8",
        "K_SERVICE": f"vss-{function.replace('_', '-')}",
        "GOOGLE_CLOUD_PROJECT": PROJECT, "GOOGLE_APPLICATION_CREDENTIALS": str(credentials),
        **DEPLOYED_ENV, **FUNCTION_ENV.get(function, {}),
        # The one call a function makes at import is writing its start record: offline here.
        "VSS_RECORD_STARTS": "false",
    }


def test_the_import_check_sets_what_terraform_sets():
    assert set(DEPLOYED_ENV) == set(root().locals["wired_environment"])
    functions = root().locals["functions"]
    for function, env in FUNCTION_ENV.items():
        own = set(root().locals["function_environment"].get(function, {}))
        secrets = set(functions[function]["secrets"])
        assert set(env) == own | secrets, function


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_function_imports_in_a_clean_environment(
    function, by_function, credentials_file: Path, tmp_path: Path
):
    archive = by_function[function]
    deployed = _deploy(archive.path, archive.requirements, tmp_path)
    target, _ = entry_points()[function]
    # -I: no PYTHON* variables, no user site; -S: none of this virtualenv's site-packages;
    # -B: no bytecode written through the symlinks into the virtualenv.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", _IMPORT_CHECK, str(deployed.site_packages),
         target],
        cwd=deployed.source, env=_deployed_env(function, credentials_file, tmp_path),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["connections"] == []
    own = (str(deployed.source), str(deployed.site_packages))
    stdlib = tuple(sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib"))
    strays = [f for f in report["files"] if not f.startswith(own)
              and (not f.startswith(stdlib) or "site-packages" in f)]
    assert strays == [], "modules loaded from outside the clean environment"


# --- the analysis, on a made-up tree -------------------------------------------------------


def _tree(root_dir: Path, files: dict[str, str], dependencies: list[str]) -> Path:
    for name, text in files.items():
        path = root_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    (root_dir / "pyproject.toml").write_text(
        "[project]\nname = 'x'\nversion = '0'\ndependencies = " + json.dumps(dependencies) + "\n"
    )
    return root_dir


BASE_DEPENDENCIES = [
    "functions-framework>=3.8,<4", "flask>=3.0,<4", "google-cloud-storage>=2.18,<4",
    "google-cloud-firestore>=2.19,<3", "pydantic>=2.7,<3", "numpy>=1.26,<3",
]


def test_analysis_follows_lazy_and_relative_imports_and_namespaces(
    packager, index, tmp_path: Path
):
    repo = _tree(tmp_path / "repo", {
        "functions/fn/main.py": """
            import functions_framework
            from vss.worker import run
        """,
        "shared/vss/__init__.py": "",
        "shared/vss/py.typed": "",
        "shared/vss/worker.py": """
            from typing import TYPE_CHECKING

            from . import store

            if TYPE_CHECKING:
                import flask

            def run():
                from vss.heavy import crunch  # lazy: still runs in production
                return crunch
        """,
        "shared/vss/store.py": "from google.cloud import firestore\n",
        "shared/vss/heavy/__init__.py": "import numpy\n",
        "shared/vss/heavy/data/table.csv": "a,b\n",
        "shared/vss/unused.py": "import pydantic\n",
    }, BASE_DEPENDENCIES)
    archive = packager.package(repo, tmp_path / "out", index)[0]
    assert archive.requirements == (
        "functions-framework>=3.8,<4", "google-cloud-firestore>=2.19,<3", "numpy>=1.26,<3",
    )
    with zipfile.ZipFile(archive.path) as z:
        assert set(z.namelist()) == {
            "main.py", "requirements.txt", "vss/__init__.py", "vss/py.typed", "vss/worker.py",
            "vss/store.py", "vss/heavy/__init__.py", "vss/heavy/data/table.csv",
        }


def test_an_undeclared_import_fails_the_packaging(packager, index, tmp_path: Path):
    repo = _tree(tmp_path / "repo", {
        "functions/fn/main.py": "import functions_framework\nimport vss.media\n",
        "shared/vss/__init__.py": "",
        "shared/vss/media.py": "import json\n\ndef load():\n    import yaml\n",
    }, BASE_DEPENDENCIES)
    with pytest.raises(packager.PackagingError) as failure:
        packager.package(repo, tmp_path / "out", index)
    assert "shared/vss/media.py:4: imports yaml, provided by pyyaml, not declared" in str(
        failure.value
    )
    assert not (tmp_path / "out").exists()  # nothing written


def test_a_missing_shared_module_fails_the_packaging(packager, index, tmp_path: Path):
    repo = _tree(tmp_path / "repo", {
        "functions/fn/main.py": "import functions_framework\nfrom vss.gone import x\n",
        "shared/vss/__init__.py": "",
    }, BASE_DEPENDENCIES)
    with pytest.raises(packager.PackagingError, match=r"functions/fn/main.py:2: imports vss.gone"):
        packager.package(repo, tmp_path / "out", index)


# --- naming, reproducibility, Terraform ----------------------------------------------------


def test_archives_are_named_by_content_and_reproducible(packager, packaged, index, tmp_path):
    _, first = packaged
    second = packager.package(ROOT, tmp_path, index)
    for a, b in zip(first, second, strict=True):
        data = a.path.read_bytes()
        assert data == b.path.read_bytes()
        assert a.sha256 == hashlib.sha256(data).hexdigest()
        assert a.path.name == f"{a.function}-{a.sha256[:16]}.zip"


def test_repackaging_replaces_superseded_archives(packager, index, tmp_path: Path):
    stale = tmp_path / "api-0123456789abcdef.zip"
    other = tmp_path / "api-notes.txt"
    stale.write_bytes(b"old")
    other.write_text("kept")
    packager.package(ROOT, tmp_path, index)
    assert not stale.exists()
    assert other.exists()
    assert len(list(tmp_path.glob("api-*.zip"))) == 1


def test_tfvars_match_the_archives_and_the_terraform_variable(packaged):
    out, archives = packaged
    tfvars = json.loads((out / "sources.tfvars.json").read_text())
    assert set(tfvars) == {"function_sources"}
    sources = tfvars["function_sources"]
    assert sources == {a.function: {"path": str(a.path), "sha256": a.sha256} for a in archives}
    assert all(Path(s["path"]).is_absolute() for s in sources.values())
    # The variable's object type has exactly these fields.
    type_text = root().variables["function_sources"]["type"]
    assert "path" in type_text and "sha256" in type_text


def test_make_deploy_reads_the_file_the_packager_writes(packager):
    makefile = (ROOT / "Makefile").read_text()
    assert f"SOURCES_TFVARS := build/functions/{packager.TFVARS_NAME}" in makefile
    assert "-var-file=$(abspath $(SOURCES_TFVARS))" in makefile


# --- the console, as deployed ----------------------------------------------------------------

# Runs in the console's clean environment, under the settings Terraform gives it: pages render
# from the packaged templates, the stylesheet is served, and an IAP assertion (ES256) is
# verified, with Google's key set replaced by the test's key (no network).
_CONSOLE_CHECK = textwrap.dedent("""
    import json, site, socket, sys

    def refuse(sock, address):
        raise OSError("no network in the console check")

    socket.socket.connect = socket.socket.connect_ex = refuse
    site.addsitedir(sys.argv[1])
    import functions_framework

    app = functions_framework.create_app(target="console", source="main.py")
    from vss.console import iap

    iap.GOOGLE_KEYS = iap.IapKeys(fetch=lambda: iap.FetchedKeys({"k1": sys.argv[3]}, None))
    client = app.test_client()
    signed = {iap.HEADER: sys.argv[2]}
    answers = {}
    for name, path, headers in [("anonymous", "/console/login", {}),
                                ("login", "/console/login", signed),
                                ("css", "/console/static/console.css", signed)]:
        answer = client.get(path, headers=headers)
        answers[name] = [answer.status_code, answer.mimetype, answer.get_data(as_text=True)]
    print(json.dumps(answers))
""")


def _iap_assertion(audience: str) -> tuple[str, str]:
    """(an ES256 assertion as IAP signs them, the PEM of its public key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from google.auth import crypt, jwt

    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    now = int(time.time())
    claims = {"iss": "https://cloud.google.com/iap", "aud": audience, "iat": now,
              "exp": now + 600, "sub": "accounts.google.com:1", "email": "ops@example.com"}
    token = jwt.encode(crypt.ES256Signer.from_string(private, key_id="k1"), claims).decode()
    return token, public.decode()


def test_the_deployed_console_renders_and_trusts_only_iap(
    by_function, credentials_file: Path, tmp_path: Path
):
    archive = by_function["console"]
    deployed = _deploy(archive.path, archive.requirements, tmp_path)
    assertion, public_key = _iap_assertion(CONSOLE_AUDIENCE)
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", _CONSOLE_CHECK, str(deployed.site_packages),
         assertion, public_key],
        cwd=deployed.source, env=_deployed_env("console", credentials_file, tmp_path),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    answers = json.loads(result.stdout.splitlines()[-1])
    status, mimetype, page = answers["anonymous"]
    assert (status, mimetype) == (401, "text/html")  # the error page, from its template
    assert "Identity-Aware Proxy" in page
    status, mimetype, page = answers["login"]
    assert (status, mimetype) == (200, "text/html") and 'name="csrf_token"' in page
    status, mimetype, css = answers["css"]
    assert (status, mimetype) == (200, "text/css")
    assert css == (CONSOLE_DIR / "static" / "console.css").read_text()
