"""A workbook of many long unique strings (shared strings) is previewed within 300 MB peak RSS and
read once per upload; one that would cost more is refused before it is read, with a clear
message. Each case runs scripts/measure_import_preview.py in a fresh process (its peak RSS)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.hostile import shared_strings_xlsx

ROOT = Path(__file__).resolve().parents[2]
BUDGET_MB = 300
HEADERS = ["姓名", "身份证号", "单位"]


def measure(path: Path) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "measure_import_preview.py"), str(path)],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{path.name} ({path.stat().st_size / 1e6:.1f} MB):", figures)
    return figures


def test_a_19_mb_shared_strings_workbook_is_previewed_within_budget_and_read_once(tmp_path):
    # 125,000 rows × 3 cells of 60 random letters: 19 MB, 375,000 shared strings (28 MB of XML)
    path = shared_strings_xlsx(tmp_path / "名册.xlsx", HEADERS, 125_000, 60)
    assert 18e6 < path.stat().st_size < 20 * 1024 * 1024  # passes the upload limit
    figures = measure(path)
    assert figures["status"] == [200, 200] and figures["preview"], figures
    assert figures["peak_mb"] <= BUDGET_MB, figures
    # the reload read the rows kept at the first preview, not the workbook
    assert len(figures["cached"]) == 1 and figures["cached"][0].endswith(".jsonl")
    assert figures["reload_s"] < figures["first_s"] / 5, figures


def test_a_workbook_over_the_reading_budget_is_refused_before_it_is_read(tmp_path):
    # 290,000 rows × 3 cells of 16 random letters: 16 MB, 870,000 shared strings
    path = shared_strings_xlsx(tmp_path / "名册.xlsx", HEADERS, 290_000, 16)
    figures = measure(path)
    assert figures["status"] == [200, 200] and not figures["preview"]
    assert figures["problem"].startswith("文件内容过多：工作表有 870,003 个单元格、870,003 段不同的文字"), figures
    assert "上限 128 MB" in figures["problem"] and "请拆分成几个文件分别导入" in figures["problem"]
    assert figures["peak_mb"] <= BUDGET_MB, figures
    assert figures["first_peak_mb"] - figures["base_mb"] < 40, figures  # never read whole
    assert figures["cached"] == []
