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


def test_grant_and_revoke_admin(runner, app):
    runner.invoke(args=["users", "create", "ada@example.com", "long enough"])
    result = runner.invoke(args=["users", "grant-admin", "ADA@example.com"])
    assert result.exit_code == 0 and "is an administrator" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(User)).is_admin
    result = runner.invoke(args=["users", "revoke-admin", "ada@example.com"])
    assert result.exit_code == 0 and "no longer an administrator" in result.output
    with app.app_context():
        assert not db.session.scalar(db.select(User)).is_admin
    result = runner.invoke(args=["users", "grant-admin", "nobody@example.com"])
    assert result.exit_code == 1 and "No account with the email nobody@example.com" in result.output


def test_profile_shows_real_roles(runner, login):
    client = login()
    assert b'data-test="profile-role">user<' in client.get("/profile").data
    runner.invoke(args=["reviewers", "grant", "ada@example.com"])
    assert b'data-test="profile-role">reviewer<' in client.get("/profile").data
    runner.invoke(args=["users", "grant-admin", "ada@example.com"])
    assert b'data-test="profile-role">administrator, reviewer<' in client.get("/profile").data
