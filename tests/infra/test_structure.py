"""The Terraform configuration is well formed: layout, typed and described interfaces,
references that resolve (what `terraform validate` would catch, had we the provider), the
example tfvars and the checkov skip list."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.support.terraform import (
    MODULES_DIR,
    TF_DIR,
    Module,
    all_modules,
    child_modules,
    load_module,
    parse_file,
    root,
)

MODULE_FILES = {"main.tf", "variables.tf", "outputs.tf", "versions.tf"}
CALL_META_ARGS = {"source", "depends_on", "providers", "count", "for_each", "version"}
EXPECTED_MODULES = {
    "storage", "firestore", "messaging", "functions", "iam", "tasks", "monitoring", "iap_frontend",
}


def _ids(modules: list[Module]) -> list[str]:
    return [m.name for m in modules]


def test_every_tf_file_parses():
    files = sorted(TF_DIR.rglob("*.tf"))
    assert len(files) >= 4 * (len(EXPECTED_MODULES) + 1)
    for path in files:
        assert isinstance(parse_file(path), dict), path


def test_root_and_modules_have_the_standard_files():
    assert set(child_modules()) == EXPECTED_MODULES
    for directory in [TF_DIR, *(MODULES_DIR / m for m in EXPECTED_MODULES)]:
        present = {p.name for p in directory.glob("*.tf")}
        assert present >= MODULE_FILES, directory


def test_versions_pin_terraform_and_the_google_provider():
    (block,) = [b for b in root().terraform if "required_providers" in b]
    assert block["required_version"].startswith(">= 1.11")
    (providers,) = block["required_providers"]
    google = providers["google"]
    assert google["source"] == "hashicorp/google"
    assert re.fullmatch(r">= 7\.\d+, < 8\.0", google["version"]), google["version"]
    # The console secret's ephemeral random_password needs random 3.7 or later.
    random = providers["random"]
    assert random["source"] == "hashicorp/random"
    assert re.fullmatch(r">= 3\.([7-9]|\d\d+), < 4\.0", random["version"]), random["version"]


def test_state_backend_is_gcs_with_partial_configuration():
    backends = [b["backend"] for b in root().terraform if "backend" in b]
    assert backends == [[{"gcs": {}}]]
    example = parse_file(TF_DIR / "backend.hcl.example")
    assert set(example) == {"bucket", "prefix"}


@pytest.mark.parametrize("module", all_modules(), ids=_ids(all_modules()))
def test_variables_are_typed_and_described_and_outputs_described(module: Module):
    for name, body in module.variables.items():
        assert body.get("type"), f"{module.name}: variable {name} has no type"
        assert len(body.get("description", "")) > 10, f"{module.name}: variable {name}"
    for name, body in module.outputs.items():
        assert len(body.get("description", "")) > 10, f"{module.name}: output {name}"


def _references(text: str, prefix: str) -> set[str]:
    return set(re.findall(rf"(?<![\w.]){prefix}\.([A-Za-z_][A-Za-z0-9_]*)", text))


@pytest.mark.parametrize("module", all_modules(), ids=_ids(all_modules()))
def test_var_local_and_data_references_resolve(module: Module):
    assert _references(module.text, "var") <= set(module.variables)
    assert _references(module.text, "local") <= set(module.locals)
    data_refs = set(re.findall(r"(?<![\w.])data\.(\w+)\.(\w+)", module.text))
    assert data_refs <= set(module.data)


@pytest.mark.parametrize("module", all_modules(), ids=_ids(all_modules()))
def test_resource_references_resolve(module: Module):
    declared = set(module.resources)
    # `resource "google_x" "name"` headers do not match (no dot after the type); data
    # references (`data.google_x.name`) are excluded by the look-behind.
    refs = set(re.findall(r"(?<![\w.])(google_[a-z0-9_]+)\.([a-z_][a-z0-9_]*)\b", module.text))
    assert refs <= declared, refs - declared


# Module calls named for what they do rather than for the module they use.
CALLS = {"console_frontend": "iap_frontend"}


def test_every_module_is_called():
    called = {(TF_DIR / c["source"]).resolve().name for c in root().calls.values()}
    assert called == EXPECTED_MODULES
    assert {n for n in root().calls if n not in EXPECTED_MODULES} == set(CALLS)


@pytest.mark.parametrize("name", sorted(set(root().calls)))
def test_module_calls_match_module_interfaces(name: str):
    call = root().calls[name]
    callee = load_module((TF_DIR / call["source"]).resolve())
    given = set(call) - CALL_META_ARGS
    assert given <= set(callee.variables), f"unknown inputs: {given - set(callee.variables)}"
    required = {v for v, body in callee.variables.items() if "default" not in body}
    assert required <= given, f"missing inputs: {required - given}"


def test_module_output_references_exist():
    modules = {
        name: load_module((TF_DIR / c["source"]).resolve()) for name, c in root().calls.items()
    }
    for module_name, output in re.findall(r"(?<![\w.])module\.(\w+)\.(\w+)", root().text):
        assert module_name in modules, module_name
        assert output in modules[module_name].outputs, f"module.{module_name}.{output}"


def test_object_variable_attributes_exist():
    """`var.x.attr` in the root names an attribute of var.x's object type."""
    variables = root().variables
    for name, attr in re.findall(r"(?<![\w.])var\.(\w+)\.(\w+)", root().text):
        if name == "function_sources":  # map(object): var.function_sources[k].path
            continue
        assert re.search(rf"\b{attr}\s*=", variables[name]["type"]), f"var.{name}.{attr}"


@pytest.mark.parametrize("module", list(child_modules().values()), ids=list(child_modules()))
def test_each_value_attributes_exist_in_the_for_each_variable(module: Module):
    """`each.value.attr` inside a resource iterating a map(object) variable names a field."""
    for (rtype, rname), body in module.resources.items():
        for_each = str(body.get("for_each", ""))
        match = re.fullmatch(r"\$\{var\.(\w+)\}", for_each)
        if not match:
            continue
        var_type = module.variables[match.group(1)]["type"]
        if "object(" not in var_type:
            continue
        for attr in set(re.findall(r"each\.value\.(\w+)", str(body))):
            assert re.search(rf"\b{attr}\s*=", var_type), f"{rtype}.{rname}: each.value.{attr}"


def test_tfvars_example_sets_known_variables_and_every_required_one():
    example = parse_file(TF_DIR / "terraform.tfvars.example")
    variables = root().variables
    assert set(example) <= set(variables)
    required = {n for n, body in variables.items() if "default" not in body}
    # function_sources comes from `make package` (build/functions/sources.tfvars.json).
    assert required - {"function_sources"} <= set(example)


def test_checkov_skips_each_have_a_reason_and_live_in_one_list():
    config_path = TF_DIR / ".checkov.yaml"
    config = yaml.safe_load(config_path.read_text())
    assert config["skip-download"] is True
    assert config["framework"] == ["terraform"]
    skip_lines = [
        line for line in config_path.read_text().splitlines() if line.strip().startswith("- CKV")
    ]
    assert len(skip_lines) == len(config["skip-check"])
    for line in skip_lines:
        check, _, reason = line.strip()[2:].partition("#")
        assert re.fullmatch(r"CKV2?_[A-Z]+_\d+", check.strip()), line
        assert len(reason.strip()) > 40, f"{check.strip()} needs a reason"
    for path in TF_DIR.rglob("*.tf"):
        assert "checkov:skip" not in path.read_text(), f"{path}: inline skip; use .checkov.yaml"


def test_ingress_is_internal_except_for_the_api_and_the_console_load_balancer():
    functions = root().locals["functions"]
    public = {k for k, f in functions.items() if f["ingress"] != "ALLOW_INTERNAL_ONLY"}
    assert public == {"api", "console"}
    assert functions["api"]["ingress"] == "ALLOW_ALL"
    assert functions["console"]["ingress"] == "ALLOW_INTERNAL_AND_GCLB"
    call = root().calls["functions"]["functions"]
    assert "ingress = f.ingress" in call


def test_only_the_api_may_be_public():
    hits = [
        (p, line)
        for p in TF_DIR.rglob("*.tf")
        for line in p.read_text().splitlines()
        if re.search(r'=\s*"all(Authenticated)?Users"', line)
    ]
    assert len(hits) == 1, hits
    expected = '{ public = "allUsers" } : name => member if k == "api" && var.api_public }'
    assert expected in hits[0][1]
