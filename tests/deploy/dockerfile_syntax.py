"""A small reader for the Dockerfile subset this project uses (no Docker engine runs on CI to parse it for us)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, COPY, ...
    text: str  # the arguments, continuation lines joined

    def exec_form(self) -> list[str]:
        """The JSON array of a CMD/ENTRYPOINT/HEALTHCHECK CMD; AssertionError for the shell form."""
        text = self.text.split(" CMD ", 1)[1] if self.keyword == "HEALTHCHECK" else self.text
        assert text.lstrip().startswith("["), f"{self.keyword} uses the shell form: {self.text}"
        return json.loads(text)

    def flags_and_words(self) -> tuple[dict[str, str], list[str]]:
        """`--name=value` flags, then the remaining words (COPY, ADD, FROM)."""
        flags, words = {}, []
        for word in shlex.split(self.text):
            if word.startswith("--") and not words:
                name, _, value = word[2:].partition("=")
                flags[name] = value
            else:
                words.append(word)
        return flags, words

    def shell_commands(self) -> list[str]:
        """A shell-form RUN split at `&&` into its commands."""
        return [part.strip() for part in self.text.split("&&")]


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for word in shlex.split(instruction.text):
                name, _, value = word.partition("=")
                values[name] = value
        return values


def logical_lines(text: str) -> list[str]:
    """Instructions one per line: comments and blank lines dropped, backslash continuations joined."""
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # Docker drops comment lines, inside continuations too
        if stripped.endswith("\\"):
            current += stripped[:-1].strip() + " "
            continue
        lines.append(current + stripped)
        current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    return lines


def parse(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults and the build stages, in order."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical_lines(path.read_text(encoding="utf-8")):
        keyword, _, text = line.partition(" ")
        instruction = Instruction(keyword.upper(), text.strip())
        if instruction.keyword == "FROM":
            _, words = instruction.flags_and_words()
            name = words[2] if len(words) == 3 and words[1].lower() == "as" else None
            stages.append(Stage(base=words[0], name=name))
        elif not stages:
            assert instruction.keyword == "ARG", f"{instruction.keyword} before the first FROM"
            name, _, default = instruction.text.partition("=")
            global_args[name] = default
        else:
            stages[-1].instructions.append(instruction)
    return global_args, stages
