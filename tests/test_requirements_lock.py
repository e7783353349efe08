"""The lock files (`make lock`) against what they are compiled from: every dependency pyproject.toml names, and every
dependency of those, is pinned to one version inside its range with sha256 hashes; nothing else is; runtime.lock
holds the runtime part of dev.lock at the same versions; infra/requirements.lock pins infra/requirements.txt."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = canonicalize_name(PYPROJECT["project"]["name"])
DEV_LOCK = ROOT / "requirements" / "dev.lock"
RUNTIME_LOCK = ROOT / "requirements" / "runtime.lock"
LOCKED_EXTRAS = ("dev", "mutation")  # the Makefile's `make lock`


@dataclass(frozen=True)
class Pin:
    name: str
    version: str
    hashes: tuple[str, ...]
    applies_here: bool  # its marker (if any) holds on this platform and Python


def read_lock(path: Path) -> dict[str, Pin]:
    """The pins that apply here, by canonical name, from a `pip install --require-hashes -r` file."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins: dict[str, Pin] = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        requirement_text, *hash_options = re.split(r"\s+--hash=", line)
        requirement = Requirement(requirement_text)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned to one version"
        pin = Pin(
            name=canonicalize_name(requirement.name),
            version=specifier.version,
            hashes=tuple(hash_options),
            applies_here=requirement.marker is None or requirement.marker.evaluate(),
        )
        if pin.applies_here:
            assert pin.name not in pins, f"{path.name}: two pins of {pin.name} apply here"
            pins[pin.name] = pin
    return pins


def applies(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**default_environment(), "extra": e}) for e in extras | {""})


def needed(roots: list[Requirement]) -> dict[str, set[str]]:
    """Every distribution these requirements need here, with the extras asked of it, from the installed metadata
    (the venv is installed from dev.lock), following the project's own extras (`exitus[bench]`) through pyproject."""
    wanted: dict[str, set[str]] = {}
    queue = [(r, {""}) for r in roots]
    while queue:
        requirement, asked_by = queue.pop()
        if not applies(requirement, asked_by):
            continue
        name = canonicalize_name(requirement.name)
        extras = set(requirement.extras)
        if name == PROJECT:
            for extra in extras:
                queue.extend((Requirement(r), {""}) for r in PYPROJECT["project"]["optional-dependencies"][extra])
            continue
        if name in wanted and extras <= wanted[name]:
            continue
        wanted.setdefault(name, set()).update(extras)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:  # not locked, so not installed: the comparison with the lock says so
            continue
        queue.extend((Requirement(dependency), wanted[name]) for dependency in requires)
    return wanted


def runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]


def dev_requirements() -> list[Requirement]:
    extras = PYPROJECT["project"]["optional-dependencies"]
    return runtime_requirements() + [Requirement(r) for extra in LOCKED_EXTRAS for r in extras[extra]]


def test_every_pin_has_sha256_hashes():
    for path in (DEV_LOCK, RUNTIME_LOCK, ROOT / "infra" / "requirements.lock"):
        for pin in read_lock(path).values():
            assert pin.hashes and all(h.startswith("sha256:") for h in pin.hashes), f"{path.name}: {pin.name}"


def test_every_dependency_pyproject_names_is_pinned_inside_its_range():
    for path, requirements in ((DEV_LOCK, dev_requirements()), (RUNTIME_LOCK, runtime_requirements())):
        pins = read_lock(path)
        for requirement in requirements:
            name = canonicalize_name(requirement.name)
            if name == PROJECT or not applies(requirement, {""}):
                continue
            assert name in pins, f"{requirement} is not in {path.name}: run `make lock`"
            assert requirement.specifier.contains(pins[name].version, prereleases=True), (
                f"{path.name} pins {name}=={pins[name].version}, outside pyproject.toml's {requirement}: "
                "run `make lock`"
            )


def test_the_locks_hold_exactly_what_their_dependencies_need():
    for path, requirements in ((DEV_LOCK, dev_requirements()), (RUNTIME_LOCK, runtime_requirements())):
        pins = set(read_lock(path))
        wanted = set(needed(requirements))
        assert wanted - pins == set(), f"needed but not in {path.name}: run `make lock`"
        assert pins - wanted == set(), f"in {path.name} but needed by nothing: run `make lock`"


def test_the_runtime_lock_is_the_dev_locks_runtime_part_at_the_same_versions():
    dev, runtime = read_lock(DEV_LOCK), read_lock(RUNTIME_LOCK)
    for name, pin in runtime.items():
        assert dev[name].version == pin.version, name
        assert set(pin.hashes) <= set(dev[name].hashes), name
    assert not {"pytest", "ruff", "schemathesis", "uv", "mutmut"} & set(runtime)  # the image has no dev tools


def test_the_venv_has_the_locked_versions():
    for pin in read_lock(DEV_LOCK).values():
        assert metadata.version(pin.name) == pin.version, f"{pin.name}: `make install` reinstalls from the lock"


def test_the_infra_lock_pins_infra_requirements():
    pins = read_lock(ROOT / "infra" / "requirements.lock")
    for line in (ROOT / "infra" / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in pins and requirement.specifier.contains(pins[name].version), line
