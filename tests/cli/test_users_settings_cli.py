from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.auth import User


def test_users_create_with_password_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "hr", "--role", "clerk", "--password-stdin"],
                           input="s3cret-pass\n")
    assert result.exit_code == 0, result.output
    assert "已创建用户 hr" in result.output
    assert "s3cret-pass" not in result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "hr"))
        assert user.role == "clerk" and user.check_password("s3cret-pass")


def test_users_create_generates_password_and_refuses_duplicates(app, runner):
    result = runner.invoke(args=["users", "create", "boss", "--role", "admin"])
    assert result.exit_code == 0 and "初始密码：" in result.output
    again = runner.invoke(args=["users", "create", "BOSS", "--role", "viewer"])
    assert again.exit_code == 1
    assert "已存在" in again.output


def test_users_create_bad_role_is_usage_error(runner):
    result = runner.invoke(args=["users", "create", "x", "--role", "god"])
    assert result.exit_code == 2


def test_bootstrap_creates_admin_once(app, runner):
    first = runner.invoke(args=["bootstrap"])
    assert "已创建管理员账号：admin" in first.output
    second = runner.invoke(args=["bootstrap"])
    assert second.output == ""


def test_settings_set_and_show(app, runner):
    result = runner.invoke(args=["settings", "set", "reminder_windows", "30，90,7"])
    assert result.exit_code == 0, result.output
    assert "reminder_windows = 90,30,7" in result.output
    shown = runner.invoke(args=["settings", "show"])
    assert "reminder_windows = 90,30,7" in shown.output
    assert "org_name = 示例街道办事处" in shown.output
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "settings"))
        assert event.actor == "cli:settings set"
        assert event.changes == {"reminder_windows": ["90,60,30,7", "90,30,7"]}


def test_settings_set_refuses_bad_values(runner):
    for name, value in [("training_hours_required", "-5"), ("eligible_establishments", "外星人"),
                        ("public_base_url", "ftp://x"), ("nonsense", "1"), ("org_name", " ")]:
        result = runner.invoke(args=["settings", "set", "--", name, value])
        assert result.exit_code == 1, (name, result.output)
        assert "错误：" in result.output
