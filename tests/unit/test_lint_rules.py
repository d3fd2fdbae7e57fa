"""scripts/lint_rules.py: a commit outside app/uow.py, and too many imports inside functions, fail lint."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("lint_rules", ROOT / "scripts" / "lint_rules.py")
lint_rules = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lint_rules)

BAD = '''\
from app.extensions import db


def save(x):
    db.session.add(x)
    db.session.commit()


def also(session):
    session.commit()
'''


def test_a_direct_commit_is_named_with_file_and_line():
    found = lint_rules.session_commits(BAD, "app/things/routes.py")
    assert [f.split(": ")[0] for f in found] == ["app/things/routes.py:6", "app/things/routes.py:10"]


def test_other_commits_and_the_word_in_strings_pass():
    ok = 'from app.uow import commit\n\ndef f(repo):\n    commit()\n    repo.commit()\n    x = "db.session.commit()"\n'
    assert lint_rules.session_commits(ok) == []


def _tree(tmp_path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_only_the_unit_of_work_may_commit(tmp_path):
    root = _tree(tmp_path, {"app/uow.py": BAD, "app/web/tx.py": BAD})
    found = lint_rules.check(root)
    assert found and all(f.startswith("app/web/tx.py:") for f in found)


def test_more_than_ten_inline_imports_fail_outside_the_factory(tmp_path):
    inline = "def f():\n    import json  # noqa: PLC0415 — a reason\n"
    files = {f"app/m{i}.py": inline for i in range(10)}
    files["app/__init__.py"] = inline * 5  # the factory does not count
    assert lint_rules.check(_tree(tmp_path, files)) == []
    (tmp_path / "app" / "m10.py").write_text(inline, encoding="utf-8")
    found = lint_rules.check(tmp_path)
    assert found[0].startswith("11 imports inside functions")
    assert "  app/m10.py:2" in found


def test_the_repository_has_no_commit_outside_the_unit_of_work():
    assert [f for f in lint_rules.check(ROOT) if "session.commit()" in f] == []
