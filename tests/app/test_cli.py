"""`flask users create EMAIL PASSWORD [--admin]`."""
from app.extensions import db
from app.models import User


def test_create_user_and_admin(runner, app):
    result = runner.invoke(args=["users", "create", "ada@example.com", "long enough"])
    assert result.exit_code == 0 and "created user ada@example.com" in result.output
    result = runner.invoke(args=["users", "create", "root@example.com", "long enough", "--admin"])
    assert result.exit_code == 0 and "created admin user root@example.com" in result.output
    with app.app_context():
        users = {u.email: u for u in db.session.scalars(db.select(User))}
        assert not users["ada@example.com"].is_admin and users["root@example.com"].is_admin
        assert users["root@example.com"].check_password("long enough")


def test_create_user_errors(runner, app):
    runner.invoke(args=["users", "create", "ada@example.com", "long enough"])
    for args, message in ((["ada@example.com", "long enough"], "already exists"),
                          (["bob@example.com", "short"], "at least 8"),
                          (["not an email", "long enough"], "not a valid email")):
        result = runner.invoke(args=["users", "create", *args])
        assert result.exit_code == 1 and message in result.output
    with app.app_context():
        assert db.session.query(User).count() == 1
