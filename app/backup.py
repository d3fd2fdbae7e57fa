"""`flask backup --out FILE` and `flask restore FILE [--force]`.

SQLite: the sqlite3 online backup API (a consistent copy while the app keeps running; the file
is itself a SQLite database). PostgreSQL: `pg_dump --format=custom` / `pg_restore`, taken from
/usr/lib/postgresql/<server major>/bin so the tools match the server.

Exit status (DESIGN §5): 0 done; 1 refused (the database is not empty and --force was not
given, the file is not a backup of this kind of database, the tools failed); 2 usage.
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
from flask.cli import with_appcontext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import URL

from app.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


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


# ---------------------------------------------------------------- backup / restore

def backup(out: Path) -> int:
    """Write the backup to `out` (via a temporary file, renamed at the end); return its size."""
    url = _url()
    tmp = out.with_name(out.name + ".part")
    try:
        if url.get_backend_name() == "sqlite":
            src = sqlite3.connect(_sqlite_path(url))
            dst = sqlite3.connect(tmp)
            try:
                with dst:
                    src.backup(dst)
            finally:
                dst.close()
                src.close()
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


def restore(path: Path, *, force: bool) -> None:
    url = _url()
    head = path.read_bytes()[:16]
    kind = url.get_backend_name()
    if kind == "sqlite" and not head.startswith(SQLITE_MAGIC):
        raise BackupError(f"{path} 不是 SQLite 备份文件（由 flask backup 在 SQLite 上生成）")
    if kind == "postgresql" and not head.startswith(PGDUMP_MAGIC):
        raise BackupError(f"{path} 不是 PostgreSQL 备份文件（pg_dump 自定义格式）")
    if has_data() and not force:
        raise BackupError("目标数据库不是空的：恢复会覆盖现有数据。确认要覆盖请加 --force")
    db.session.remove()
    db.engine.dispose()
    if kind == "sqlite":
        src = sqlite3.connect(path)
        dst = sqlite3.connect(_sqlite_path(url))
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    uri, env = _pg_args(url)
    done = subprocess.run([pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                           "--no-privileges", "--single-transaction", "--exit-on-error",
                           "--dbname", uri, str(path)], env=env, capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"pg_restore 失败（数据库未改动）：{done.stderr.strip()}")


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
        restore(path, force=force)
    except (BackupError, sqlite3.Error, OSError) as exc:
        _fail(str(exc))
    click.echo(f"已从 {path} 恢复数据库")
