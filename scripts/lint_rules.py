"""The project's own lint rules (run by scripts/lint.sh, i.e. `make lint`):

1. One way to commit: no `<x>.session.commit()` / `session.commit()` call in app/ outside
   app/uow.py (the unit of work: the commit after each request's handler, and its explicit
   `commit()` for what must be durable before the handler goes on).
2. Imports inside functions stay rare: at most MAX_INLINE_IMPORTS `noqa: PLC0415` comments in
   app/ outside the application factory (app/__init__.py), each with its reason.

Prints file:line for each finding and exits 1 when a rule fails.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UOW_MODULE = Path("app/uow.py")
FACTORY = Path("app/__init__.py")
MAX_INLINE_IMPORTS = 10
NOQA_INLINE_IMPORT = "noqa: PLC0415"


def _is_session_commit(node: ast.AST) -> bool:
    """`session.commit()`, `db.session.commit()`, `self.session.commit()` …"""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "commit"):
        return False
    owner = node.func.value
    if isinstance(owner, ast.Name):
        return owner.id == "session"
    if isinstance(owner, ast.Attribute):
        return owner.attr == "session"
    if isinstance(owner, ast.Call):  # db.session().commit()
        f = owner.func
        return (isinstance(f, ast.Attribute) and f.attr == "session") or \
            (isinstance(f, ast.Name) and f.id == "session")
    return False


def session_commits(source: str, filename: str = "<snippet>") -> list[str]:
    """`file:line: …` for each session commit call in `source`."""
    tree = ast.parse(source, filename=filename)
    return [f"{filename}:{node.lineno}: session.commit() outside app/uow.py — end the change with "
            f"app.uow (the commit after the handler, or app.uow.commit())"
            for node in ast.walk(tree) if _is_session_commit(node)]


def inline_import_noqas(source: str, filename: str = "<snippet>") -> list[str]:
    """`file:line` for each `# noqa: PLC0415` comment (comments only, not strings)."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT and NOQA_INLINE_IMPORT in tok.string:
            found.append(f"{filename}:{tok.start[0]}")
    return found


def check(root: Path = ROOT) -> list[str]:
    """Every finding of both rules over root/app; empty when the rules hold."""
    problems: list[str] = []
    noqas: list[str] = []
    for path in sorted((root / "app").rglob("*.py")):
        rel = path.relative_to(root)
        source = path.read_text(encoding="utf-8")
        if rel != UOW_MODULE:
            problems += session_commits(source, str(rel))
        if rel != FACTORY:
            noqas += inline_import_noqas(source, str(rel))
    if len(noqas) > MAX_INLINE_IMPORTS:
        problems.append(f"{len(noqas)} imports inside functions (`{NOQA_INLINE_IMPORT}`) in app/ outside "
                        f"{FACTORY}; at most {MAX_INLINE_IMPORTS}:")
        problems += [f"  {where}" for where in noqas]
    return problems


def main() -> int:
    problems = check()
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
