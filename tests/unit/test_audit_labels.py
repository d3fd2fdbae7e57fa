"""Every action, entity type and changed field the code can write to the audit log has a Chinese
label, so that the audit page and its export never show a code (`exam_sitting`, `score`…).

The names are read from the source: the arguments of every call that writes audit rows (record,
record_many, record_changes_many), the `entity`/`entity_type` the list specs, import kinds and
documents pass on, the field lists handed to changes_of, and the keys of literal change dicts."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from app import labels as L
from app.audit_log.display import field_label

APP = Path(__file__).resolve().parents[2] / "app"
WRITERS = {"record", "record_many", "record_changes_many"}


def _strings(node) -> set[str]:
    """The string constants an argument can evaluate to (both branches of `a if c else b`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def _module_list(path: Path, node) -> set[str]:
    """Field names passed as a list literal or a module-level list name."""
    if isinstance(node, ast.List | ast.Tuple):
        return {s for e in node.elts for s in _strings(e)}
    if isinstance(node, ast.Name):
        module = importlib.import_module(".".join(path.relative_to(APP.parent).with_suffix("").parts))
        value = getattr(module, node.id, None)
        if isinstance(value, list | tuple):
            return {v for v in value if isinstance(v, str)}
    return set()


def _dict_keys(node) -> set[str]:
    if isinstance(node, ast.Dict):
        return {s for k in node.keys if k is not None for s in _strings(k)}
    if isinstance(node, ast.BinOp):  # changes_of(...) | {"status": [...]}
        return _dict_keys(node.left) | _dict_keys(node.right)
    return set()


def _assigned_names(node: ast.AnnAssign | ast.Assign) -> tuple[set[str], set[str]]:
    """The entities and fields an assignment names (`entity = "officer"`, `changes["x"] = [...]`)."""
    entities: set[str] = set()
    fields: set[str] = set()
    targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
    for t in targets:  # changes["certificate_numbers"] = [old, new]
        if isinstance(t, ast.Subscript) and getattr(t.value, "id", "") == "changes":
            fields |= _strings(t.slice)
    if any(getattr(t, "id", None) in ("entity", "entity_type") for t in targets) and node.value:
        entities |= _strings(node.value)
    return entities, fields


def written_names() -> tuple[set[str], set[str], set[str], list[str]]:
    actions, entities, fields, unresolved = set(), set(), set(), []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name in WRITERS and node.args:
                    found = _strings(node.args[0])
                    actions |= found
                    if not found and path.name != "services.py":
                        unresolved.append(f"{path}:{node.lineno} action")
                    if len(node.args) > 1:
                        entities |= _strings(node.args[1])
                    changes = node.args[4] if len(node.args) > 4 else next(
                        (k.value for k in node.keywords if k.arg == "changes"), None)
                    fields.update(_dict_keys(changes) if changes is not None else ())
                    if name == "record_many" and len(node.args) > 2:  # (id, summary, {field: value})
                        for sub in ast.walk(node.args[2]):
                            fields |= _dict_keys(sub)
                if name == "changes_of" and len(node.args) > 2:
                    fields |= _module_list(path, node.args[2])
                for kw in node.keywords:
                    if kw.arg in ("entity", "entity_type"):
                        entities |= _strings(kw.value)
            elif isinstance(node, ast.AnnAssign | ast.Assign):
                assigned_entities, assigned_fields = _assigned_names(node)
                entities |= assigned_entities
                fields |= assigned_fields
    return actions, entities - {""}, fields, unresolved


def test_every_written_audit_name_has_a_chinese_label():
    from app.models.imports import ImportBatch  # noqa: F401  (the import kinds register)
    from app.online.bank import QUESTION_FIELDS
    from app.settings.services import SPECS

    actions, entities, fields, unresolved = written_names()
    fields |= set(QUESTION_FIELDS)  # apply_fields: a question's edited fields
    assert {"create", "export", "login_failed"} <= actions and {"officer", "exam_sitting"} <= entities
    assert not unresolved, unresolved
    missing = sorted(f"操作 {a}" for a in actions if a not in L.AUDIT_ACTIONS)
    missing += sorted(f"对象 {e}" for e in entities if e not in L.ENTITY_TYPES)
    missing += sorted(f"字段 {f}" for f in fields if field_label(f) == f and f not in SPECS)
    assert not missing, "\n".join(missing)


def test_audit_page_shows_an_online_answer_in_chinese(app, client):
    from app.audit.services import record
    from app.extensions import db
    from tests.conftest import login
    from tests.web.test_page_walk import visible_text

    with app.app_context():
        record("update", "exam_sitting", 7, "作答第 3 题", {"answer": [None, "B"], "item": [None, 12]})
        record("undo_import", "import_batch", 2, "撤销导入", {"status": ["imported", "undone"]})
        db.session.commit()
    login(client, app, "admin")
    text = visible_text(client.get("/audit").get_data(as_text=True))
    for code in ("exam_sitting", "import_batch", "undo_import", "answer", "item", "undone", "imported"):
        assert code not in text, code
    assert "在线考试考生（编号 7）" in text and "撤销导入" in text
