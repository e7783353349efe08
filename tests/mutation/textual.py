"""Textual mutants of what is not Python but decides who sees what: queries/*.sql, migrations/*.sql, and the
spec's security requirements. Each is a small, realistic mistake; the tests named with it must notice it.

Mutants are generated from the files as they are, so a new query, migration or operation is mutated too:
- queries: each comparison of a key (customer_id, project_id, issue_id, id, sub) with a parameter becomes the
  tautology `:<param> = :<param>` (a forgotten filter that still takes its parameter); each parenthesised
  optional filter `(cast(:x as ...) is null or ...)` loses its parentheses (`q` then matches everything the rest
  of the WHERE would exclude); set_config's `true` becomes `false` (a session-level binding that outlives the
  request's transaction);
- migrations (not the rollbacks): each `enable` or `force row level security` is dropped, each policy's USING
  becomes `true`;
- the spec: each secured operation made public, each write scope lowered to read (the admin scope to
  customer.read), and each alternative requirement of an operation dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

ISOLATION_TESTS = ("tests/test_isolation_sql_filters.py", "tests/test_queries.py")
RLS_TESTS = ("tests/test_isolation_row_level_security.py", "tests/test_row_level_security.py", "tests/test_db.py")
SPEC_TESTS = ("tests/api/test_operation_scopes.py", "tests/api/test_security_matrix.py")
SPEC = "openapi/exitus.yaml"


@dataclass(frozen=True)
class Mutant:
    id: str  # stable across unrelated edits: file, the query/statement/operation, and what changed
    path: str
    mutated: str  # the whole file's new text
    tests: tuple[str, ...]


def generate(root: Path) -> Iterator[Mutant]:
    for path in sorted((root / "queries").glob("*.sql")):
        yield from _query_mutants(root, path)
    for path in sorted((root / "migrations").glob("*.sql")):
        if not path.name.endswith(".rollback.sql"):
            yield from _migration_mutants(root, path)
    yield from _spec_mutants(root)


def _query_mutants(root: Path, path: Path) -> Iterator[Mutant]:
    text = path.read_text()
    relative = str(path.relative_to(root))
    starts = [(m.start(), m.group(1)) for m in re.finditer(r"^-- :name (\w+)", text, re.MULTILINE)]

    def query_at(offset: int) -> str:
        return [name for start, name in starts if start <= offset][-1]

    seen: dict[str, int] = {}

    def unique(label: str) -> str:
        seen[label] = seen.get(label, 0) + 1
        return label if seen[label] == 1 else f"{label} #{seen[label]}"

    tests = ISOLATION_TESTS + (("tests/api/test_customers.py",) if path.stem == "customers" else ())
    for match in re.finditer(r"\b((?:\w+\.)?(?:customer_id|project_id|issue_id|id|sub)) = :(\w+)\b", text):
        column, param = match.groups()
        mutated = text[: match.start()] + f":{param} = :{param}" + text[match.end() :]
        label = unique(f"{relative} {query_at(match.start())}: drop `{column} = :{param}`")
        yield Mutant(label, relative, mutated, tests)
    for match in re.finditer(r"\(cast\(:\w+ as \w+\) is null", text):
        close = _matching_paren(text, match.start())
        mutated = text[: match.start()] + text[match.start() + 1 : close] + text[close + 1 :]
        label = unique(f"{relative} {query_at(match.start())}: optional filter without its parentheses")
        yield Mutant(label, relative, mutated, tests)
    for match in re.finditer(r"set_config\(([^()]*|[^()]*\([^()]*\)[^()]*), true\)", text):
        mutated = text[: match.end() - 5] + "false)" + text[match.end() :]
        yield Mutant(f"{relative} {query_at(match.start())}: session-level set_config", relative, mutated, RLS_TESTS)


def _matching_paren(text: str, start: int) -> int:
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ValueError(f"unbalanced parenthesis at {start}")


def _migration_mutants(root: Path, path: Path) -> Iterator[Mutant]:
    text = path.read_text()
    relative = str(path.relative_to(root))
    for match in re.finditer(r"^alter table (\w+) (enable|force) row level security;\n", text, re.MULTILINE):
        table, what = match.groups()
        mutated = text[: match.start()] + text[match.end() :]
        yield Mutant(f"{relative}: no `{what} row level security` on {table}", relative, mutated, RLS_TESTS)
    for match in re.finditer(r"^create policy (\w+) on \w+[^;]*?using \(", text, re.MULTILINE | re.DOTALL):
        close = _matching_paren(text, match.end() - 1)
        mutated = text[: match.end()] + "true" + text[close:]
        yield Mutant(f"{relative}: policy {match.group(1)} using (true)", relative, mutated, RLS_TESTS)


def _lowered(scope: str) -> str | None:
    if scope == "exitus/customer.admin":
        return "exitus/customer.read"
    if scope.endswith(".write"):
        return scope.removesuffix(".write") + ".read"
    return None


def _spec_mutants(root: Path) -> Iterator[Mutant]:
    """Each mutant rewrites one operation's `security:` block in place (the rest of the file untouched)."""
    text = (root / SPEC).read_text()
    spec = yaml.safe_load(text)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or not operation.get("security"):
                continue
            name = operation["operationId"]
            block = re.search(
                rf"^(      operationId: {re.escape(name)}\n      security:\n)((?:        - \w+: \[[^\]]*\]\n)+)",
                text,
                re.MULTILINE,
            )
            assert block, f"{name}: the spec's security block is not in the expected form (tests/mutation/textual.py)"
            # (scheme, scopes) alternatives: oidc, and bearerAuth with the same scopes (Swagger UI's pasted tokens)
            requirements = [(scheme, scopes) for r in operation["security"] for scheme, scopes in r.items()]

            def rewrite(new_requirements, block=block, name=name) -> str:
                lines = "".join(f"        - {scheme}: [{', '.join(scopes)}]\n" for scheme, scopes in new_requirements)
                body = (
                    block.group(1) + lines
                    if new_requirements
                    else "      operationId: " + name + "\n      security: []\n"
                )
                return text[: block.start()] + body + text[block.end() :]

            where = f"{SPEC} {method.upper()} {path}"
            yield Mutant(f"{where}: public", SPEC, rewrite([]), SPEC_TESTS)
            for index, (scheme, scopes) in enumerate(requirements):
                named = "" if scheme == "oidc" else f"{scheme} "  # oidc's ids as before bearerAuth came
                for position, scope in enumerate(scopes):
                    lower = _lowered(scope)
                    if lower is not None:
                        changed = [(s, list(c)) for s, c in requirements]
                        changed[index][1][position] = lower
                        yield Mutant(f"{where}: {named}{scope} lowered to {lower}", SPEC, rewrite(changed), SPEC_TESTS)
                if len(requirements) > 1:
                    dropped = requirements[:index] + requirements[index + 1 :]
                    yield Mutant(f"{where}: alternative {named}{scopes} dropped", SPEC, rewrite(dropped), SPEC_TESTS)
