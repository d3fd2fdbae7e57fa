"""`flask backup --out FILE` and `flask restore FILE [--force]`.

SQLite: the sqlite3 online backup API (a consistent copy while the app keeps running; the file
is itself a SQLite database). PostgreSQL: `pg_dump --format=custom` / `pg_restore`, taken from
/usr/lib/postgresql/<server major>/bin so the tools match the server.

Exit status (docs/domain.md 命令行约定): 0 done; 1 refused (the database is not empty and --force was not
given, the file is not a backup of this product — checked before anything is touched, --force
or not —, the tools failed); 2 usage.

A backup of this product has an `alembic_version` table holding a revision these migrations know,
and the product's core tables; any other SQLite file or dump is refused before the database is
touched.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from alembic.config import Config
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import URL

from app.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
# Tables every revision of the product has had (the initial schema's core): a backup lacking one
# is not a backup of this product.
CORE_TABLES = frozenset({"alembic_version", "user_account", "unit", "officer", "certificate",
                         "certificate_event", "audit_event", "setting"})


class BackupError(Exception):
    """A refusal a person can act on (exit 1)."""


# ---------------------------------------------------------------- helpers

def _url() -> URL:
    return db.engine.url


def _sqlite_path(url: URL) -> str:
    path = url.database or ""
    if not path or path == ":memory:" or path.startswith("file::memory:"):
        raise BackupError("内存数据库无法备份或恢复")
    return path


def pg_tool(name: str) -> str:
    """pg_dump/pg_restore of the server's major version (a newer one as a fallback)."""
    with db.engine.connect() as conn:
        major = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    exact = f"/usr/lib/postgresql/{major}/bin/{name}"
    if os.path.exists(exact):
        return exact
    newer = sorted((p for p in glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
                    if int(p.split("/")[4]) >= major), key=lambda p: int(p.split("/")[4]))
    if newer:
        return newer[0]
    found = shutil.which(name)
    if found:
        return found
    raise BackupError(f"找不到 {name}（PostgreSQL {major} 客户端工具），请安装 postgresql-client-{major}")


def _pg_args(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password, and the environment carrying it."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def has_data() -> bool:
    """Whether any of the application's tables holds a row."""
    names = set(inspect(db.engine).get_table_names())
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            if table.name in names and conn.execute(
                    select(func.count()).select_from(table)).scalar():
                return True
    return False


def known_revisions() -> tuple[set[str], set[str]]:
    """(every revision of this code's migrations, the head revisions)."""
    config = Config()
    config.set_main_option("script_location", str(current_app.extensions["migrate"].directory))
    script = ScriptDirectory.from_config(config)
    return {s.revision for s in script.walk_revisions()}, set(script.get_heads())


def _sqlite_contents(path: Path) -> tuple[set[str], list[str]]:
    """(table names, alembic revisions) of a SQLite file, opened read-only."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = ([r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
                         if "alembic_version" in tables else [])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} 无法作为 SQLite 数据库读取（{exc}），不是有效的备份文件") from exc
    return tables, revisions


def _pgdump_contents(path: Path) -> tuple[set[str], list[str]]:
    """(table names, alembic revisions) of a pg_dump custom-format file, read with pg_restore."""
    tool = pg_tool("pg_restore")
    listed = subprocess.run([tool, "--list", str(path)], capture_output=True, text=True)
    if listed.returncode:
        raise BackupError(f"{path} 无法读取（pg_restore --list 失败：{listed.stderr.strip()}）")
    tables = set()
    for line in listed.stdout.splitlines():
        # "215; 1259 16385 TABLE public officer postgres"
        parts = line.split()
        if not line.startswith(";") and len(parts) >= 6 and parts[3] == "TABLE":
            tables.add(parts[5])
    revisions: list[str] = []
    if "alembic_version" in tables:
        data = subprocess.run([tool, "--data-only", "--table=alembic_version", "--file=-", str(path)],
                              capture_output=True, text=True)
        if data.returncode:
            raise BackupError(f"{path} 无法读取（pg_restore 失败：{data.stderr.strip()}）")
        lines = data.stdout.splitlines()
        for i, line in enumerate(lines):
            if line.startswith("COPY ") and "alembic_version" in line:
                for row in lines[i + 1:]:
                    if row == "\\.":
                        break
                    revisions.append(row.strip())
    return tables, revisions


def check_backup(path: Path, kind: str) -> list[str]:
    """Refuse (BackupError) a file that is not a backup of this product, made by this version of
    it or an earlier one; return its alembic revisions."""
    tables, revisions = _sqlite_contents(path) if kind == "sqlite" else _pgdump_contents(path)
    if "alembic_version" not in tables or not revisions:
        raise BackupError(f"{path} 不是本系统的备份：缺少数据库版本信息（alembic_version 表），"
                          "数据库未改动")
    missing = sorted(CORE_TABLES - tables)
    if missing:
        raise BackupError(f"{path} 不是本系统的备份：缺少数据表 {', '.join(missing)}，数据库未改动")
    known, _heads = known_revisions()
    unknown = [r for r in revisions if r not in known]
    if unknown:
        raise BackupError(f"{path} 的数据库版本 {', '.join(unknown)} 不是本程序已知的版本"
                          "（可能由更新版本的程序生成，请先升级程序），数据库未改动")
    return revisions


# ---------------------------------------------------------------- backup / restore

def _sqlite_copy(source, target) -> None:
    """SQLite's online backup of the database file `source` into `target`."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
    finally:
        dst.close()
        src.close()


def backup(out: Path) -> int:
    """Write the backup to `out` (via a temporary file, renamed at the end); return its size."""
    url = _url()
    tmp = out.with_name(out.name + ".part")
    try:
        if url.get_backend_name() == "sqlite":
            _sqlite_copy(_sqlite_path(url), tmp)
        elif url.get_backend_name() == "postgresql":
            uri, env = _pg_args(url)
            done = subprocess.run([pg_tool("pg_dump"), "--format=custom", "--no-owner",
                                   "--file", str(tmp), "--dbname", uri],
                                  env=env, capture_output=True, text=True)
            if done.returncode:
                raise BackupError(f"pg_dump 失败：{done.stderr.strip()}")
        else:
            raise BackupError(f"不支持的数据库类型：{url.get_backend_name()}")
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out.stat().st_size


def restore(path: Path, *, force: bool) -> list[str]:
    """Restore `path`; returns the backup's alembic revisions."""
    url = _url()
    head = path.read_bytes()[:16]
    kind = url.get_backend_name()
    if kind == "sqlite" and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{path} 不是 SQLite 备份文件（由 flask backup 在 SQLite 上生成）")
    if kind == "postgresql" and not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{path} 不是 PostgreSQL 备份文件（pg_dump 自定义格式）")
    revisions = check_backup(path, kind)
    if has_data() and not force:
        raise BackupError("目标数据库不是空的：恢复会覆盖现有数据。确认要覆盖请加 --force")
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        _sqlite_copy(path, _sqlite_path(url))
        return revisions
    uri, env = _pg_args(url)
    done = subprocess.run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                           "--no-privileges", "--single-transaction", "--exit-on-error",
                           "--dbname", uri, str(path)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"pg_restore 失败（数据库未改动）：{done.stderr.strip()}")
    return revisions


# ---------------------------------------------------------------- commands

def _fail(message: str) -> None:
    click.echo(f"错误：{message}", err=True)
    sys.exit(1)


@click.command("backup")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="备份文件（SQLite：数据库文件；PostgreSQL：pg_dump 自定义格式）")
@with_appcontext
def backup_cmd(out: Path) -> None:
    """备份整个数据库到 FILE（运行中即可备份）。 Back up the whole database."""
    if not out.parent.is_dir():
        raise click.UsageError(f"目录不存在：{out.parent}")
    try:
        size = backup(out)
    except (BackupError, sqlite3.Error, OSError) as exc:
        _fail(str(exc))
    click.echo(f"已备份到 {out}（{size:,} 字节）")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="目标数据库已有数据时仍然覆盖")
@with_appcontext
def restore_cmd(path: Path, force: bool) -> None:
    """从 flask backup 生成的文件恢复数据库。 Restore a backup made by `flask backup`.

    Refuses (exit 1) to overwrite a database that holds data unless --force is given."""
    try:
        revisions = restore(path, force=force)
    except (BackupError, sqlite3.Error, OSError) as exc:
        _fail(str(exc))
    click.echo(f"已从 {path} 恢复数据库")
    if not set(revisions) & known_revisions()[1]:
        click.echo("该备份来自较早的版本：请运行 flask db upgrade 升级数据库结构后再启动服务")
