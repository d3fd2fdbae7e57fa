"""No command prints a traceback: wrong files, wrong dates, unknown ids, unwritable outputs."""

from __future__ import annotations

import pytest

CASES = [
    ["import", "officers", "/nonexistent/file.xlsx"],
    ["import", "officers", "{binary}"],
    ["import", "certificates", "{text_xlsx}"],
    ["import", "attendance", "{empty_csv}"],
    ["import", "scores", "{binary}"],
    ["import", "officers", "{unwritable_ext}"],
    ["report", "flags", "--today", "2024-02-30"],
    ["report", "flags", "--within", "-5"],
    ["report", "flags", "--within", "abc"],
    ["report", "expiring", "--unit", "不存在的单位"],
    ["report", "flags", "--format", "xlsx"],
    ["report", "flags", "--format", "csv", "--out", "/nonexistent/dir/x.csv"],
    ["report", "annual", "--year", "abc"],
    ["report", "training", "--year", "99999"],
    ["docs", "roster", "--out", "/nonexistent/dir/x.pdf"],
    ["docs", "sign-in", "--session", "999999", "--out", "{tmp}/x.pdf"],
    ["docs", "scores", "--exam", "abc", "--out", "{tmp}/x.pdf"],
    ["docs", "certificates", "--out", "{tmp}/x.pdf"],
    ["docs", "ledger", "--year", "1800", "--out", "{tmp}/x.pdf"],
    ["docs", "reminder", "--within", "-1", "--out", "{tmp}/x.pdf"],
    ["reminders", "send", "--today", "yesterday"],
    ["settings", "set", "reminder_windows", "x"],
    ["settings", "set", "no_such_setting", "1"],
    ["users", "create", "", "--role", "viewer"],
    ["demo", "seed", "--officers", "0"],
    ["backup", "--out", "/nonexistent/dir/x.backup"],
    ["restore", "{binary}"],
    ["restore", "/nonexistent/file.backup"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
def test_command_fails_cleanly(runner, tmp_path, args):
    files = {
        "binary": tmp_path / "garbage.xlsx",
        "text_xlsx": tmp_path / "text.xlsx",
        "empty_csv": tmp_path / "empty.csv",
        "unwritable_ext": tmp_path / "data.pdf",
    }
    files["binary"].write_bytes(bytes(range(256)) * 10)
    files["text_xlsx"].write_text("姓名,身份证号\n张三,1\n", encoding="utf-8")
    files["empty_csv"].write_text("", encoding="utf-8")
    files["unwritable_ext"].write_text("x", encoding="utf-8")
    real = [a.format(tmp=tmp_path, **files) for a in args]
    result = runner.invoke(args=real)
    assert result.exit_code in (1, 2), (real, result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.output.strip(), "a refusal must say why"
