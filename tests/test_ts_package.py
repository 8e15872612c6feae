"""``ts/`` as an npm package: ``npm pack`` builds it from the checked-in
``generated/phasekit.ts``, and a scratch project installs the tarball offline, imports it
in Node and type-checks a TypeScript file against the package's declarations."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import attrs
import pytest

import phasekit
from phasekit import codec
from tests.typescript_tools import ROOT, tools

PACKAGE = ROOT / "ts"
MANIFEST = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))
# What the tarball holds: the manifest, the README and the compiled module with its types.
PACKED = {"package.json", "README.md", "dist/phasekit.js", "dist/phasekit.d.ts"}


def npm(*arguments: str, cwd: Path, cache: Path) -> str:
    found = shutil.which("npm")
    if found is None:
        pytest.fail("the npm package tests need npm (Debian: apt-get install nodejs npm)")
    done = subprocess.run(
        [found, *arguments, "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        # A cache of its own: the test never reads or writes the user's npm cache.
        env={**os.environ, "npm_config_cache": str(cache), "npm_config_update_notifier": "false"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_package_is_phasekits_version_with_no_runtime_dependency() -> None:
    lock = json.loads((PACKAGE / "package-lock.json").read_text(encoding="utf-8"))
    assert MANIFEST["version"] == phasekit.__version__
    assert lock["version"] == lock["packages"][""]["version"] == phasekit.__version__
    assert lock["name"] == MANIFEST["name"]
    assert not {"dependencies", "peerDependencies", "optionalDependencies"} & set(MANIFEST)
    # The compiler stays pinned to one exact version, the one the lock installs.
    (pin,) = MANIFEST["devDependencies"].values()
    assert re.fullmatch(r"\d+\.\d+\.\d+", pin)
    assert lock["packages"]["node_modules/typescript"]["version"] == pin


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``npm pack`` run on a copy of ``ts/`` beside a copy of ``generated/phasekit.ts`` (as
    in the repository, less any build output), with the pinned compiler linked in."""
    work = tmp_path_factory.mktemp("package")
    shutil.copytree(PACKAGE, work / "ts", ignore=shutil.ignore_patterns("node_modules", "dist"))
    (work / "generated").mkdir()
    shutil.copy(ROOT / "generated" / "phasekit.ts", work / "generated")
    tsc, _ = tools()
    (work / "ts" / "node_modules").symlink_to(tsc.parent.parent)
    (work / "packed").mkdir()
    npm("pack", "--pack-destination", str(work / "packed"), cwd=work / "ts", cache=work / "npm")
    (packed,) = (work / "packed").iterdir()
    return packed


def test_npm_pack_builds_the_module_and_its_declarations(tarball: Path) -> None:
    assert tarball.name == f"{MANIFEST['name']}-{phasekit.__version__}.tgz"
    with tarfile.open(tarball) as archive:
        names = {name.removeprefix("package/") for name in archive.getnames()}
        declarations = archive.extractfile("package/dist/phasekit.d.ts")
        assert declarations is not None
        typed = declarations.read().decode()
    assert names == PACKED
    for name in ("decodeFrame", "decodeBatch", "availableEvents"):
        assert f"export declare function {name}(" in typed
    assert "export declare class ProgressView" in typed
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", typed, flags=re.DOTALL)
    assert "any" not in re.findall(r"\w+", code)


# A frontend's module: decode frames, keep them in a ProgressView, print what it holds.
MAIN = """
import { decodeFrame, DecodeError, InvalidValue, ProgressView, PHASES } from "phasekit";

const [first, older, transition] = JSON.parse(process.argv[2]);
const view = new ProgressView();
const applied = [view.apply(decodeFrame(first)), view.apply(decodeFrame(older))];
let refused = "";
try {
  view.apply(decodeFrame(transition));
} catch (error) {
  refused = error instanceof InvalidValue ? error.message : String(error);
}
let malformed = false;
try {
  decodeFrame("[]");
} catch (error) {
  malformed = error instanceof DecodeError;
}
const kept = view.get(decodeFrame(first).campaignId);
console.log(JSON.stringify({ applied, refused, malformed, phases: PHASES, kept, ids: [...view] }));
"""

# The same in TypeScript, checked by tsc --strict against the installed declarations.
CHECK = """
import {
  decodeFrame,
  ProgressView,
  type Frame,
  type ProgressMessage,
  type TransitionMessage,
} from "phasekit";

const view = new ProgressView();
const frame: Frame = decodeFrame('["p1"]');
if (frame.kind === "progress") {
  const applied: boolean = view.apply(frame);
  console.log(applied);
}
const kept: ProgressMessage | undefined = view.get("00000000-0000-0000-0000-000000000001");
const percent: number | undefined = kept?.progressPercent;
const ids: string[] = [...view];
console.log(percent, ids, view.size);
declare const transition: TransitionMessage;
// @ts-expect-error: a ProgressView takes progress messages only
view.apply(transition);
// @ts-expect-error: the declarations are typed, not any
const wrong: string = view.size;
console.log(wrong);
"""


@pytest.fixture(scope="module")
def scratch(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new project that installs the tarball offline (it has no dependencies)."""
    app = tmp_path_factory.mktemp("scratch")
    manifest = {"name": "scratch", "version": "1.0.0", "private": True, "type": "module"}
    (app / "package.json").write_text(json.dumps(manifest), encoding="utf-8")
    npm("install", str(tarball), "--offline", cwd=app, cache=app.parent / "npm-scratch")
    return app


def frames() -> list[str]:
    first = codec.EXAMPLE_PROGRESS
    older = attrs.evolve(first, progress=1.0, sequence=first.sequence - 1)
    return [codec.encode(message).decode() for message in (first, older, codec.EXAMPLE_TRANSITION)]


def test_a_scratch_project_imports_the_installed_package(scratch: Path) -> None:
    installed = scratch / "node_modules" / MANIFEST["name"]
    files = {path.relative_to(installed).as_posix() for path in installed.rglob("*")}
    assert files - {"dist"} == PACKED
    (scratch / "main.mjs").write_text(MAIN, encoding="utf-8")
    _, node = tools()
    done = subprocess.run(
        [node, "main.mjs", json.dumps(frames())],
        cwd=scratch,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    example = codec.EXAMPLE_PROGRESS
    assert result["applied"] == [True, False]
    assert result["refused"].startswith("message must be a ProgressMessage;")
    assert result["malformed"] is True
    assert result["phases"] == [phase.value for phase in phasekit.Phase]
    assert result["kept"]["progressPercent"] == example.progress
    assert result["kept"]["sequence"] == example.sequence
    assert result["ids"] == [str(example.campaign_id)]


@pytest.mark.parametrize(
    "resolution", [("nodenext", "nodenext"), ("esnext", "bundler")], ids=["node", "bundler"]
)
def test_a_scratch_project_type_checks_against_the_declarations(
    scratch: Path, resolution: tuple[str, str]
) -> None:
    # The package resolves through its "exports" ("types" then "import") under Node's
    # resolution and a bundler's; tsc must read its d.ts, and find the errors it expects.
    module, resolver = resolution
    (scratch / "check.ts").write_text(CHECK, encoding="utf-8")
    tsc, _ = tools()
    options = ["--strict", "--noEmit", "--target", "es2022", "--lib", "es2022,dom"]
    options += ["--module", module, "--moduleResolution", resolver, "--listFiles"]
    done = subprocess.run(
        [str(tsc), *options, "check.ts"], cwd=scratch, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    listed = [Path(line).resolve() for line in done.stdout.splitlines()]
    installed = (scratch / "node_modules" / MANIFEST["name"]).resolve()
    assert installed / "dist" / "phasekit.d.ts" in listed
