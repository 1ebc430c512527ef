"""VisionLoop: upload a photo, see what the models recognize, confirm or correct them."""
from __future__ import annotations

import os
from collections.abc import Mapping

from flask import Flask

from app import busy, guards, security, storage, templating
from app.config import Config, celery_settings, embedded_broker_folder
from app.extensions import csrf, db, login_manager
from app.schema import migration_commands
from app.tasks import celery_init_app


def create_app(config: type | Mapping | None = None) -> Flask:
    """Build the app from Config, then the instance folder's config.py, or the given overrides."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if config is None:
        app.config.from_pyfile("config.py", silent=True)
    elif isinstance(config, Mapping):
        app.config.from_mapping(config)
    else:
        app.config.from_object(config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config["CELERY"] == Config.CELERY:  # not set by the caller: follow the REDIS_URL finally in force
        redis_url = app.config.get("REDIS_URL")
        app.config["CELERY"] = celery_settings(redis_url) if redis_url else celery_settings(
            None, *embedded_broker_folder(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path))

    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)
    storage.init_app(app)
    celery_init_app(app)
    templating.init_app(app)
    guards.init_app(app)

    from app import api, auth, classify, errors, history, live  # noqa: PLC0415 - blueprints import models
    from app.cli import users

    app.register_blueprint(errors.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(classify.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(api.bp)
    csrf.exempt(api.bp)  # bearer tokens, not cookies: no cross-site request can carry them
    live.init_app(app)  # camera page, saved sessions and the frame socket
    app.cli.add_command(users)
    app.cli.add_command(migration_commands)
    _init_learning_loop(app)
    busy.init_app(app)  # after the blueprints: both wrap their views, retries inside the rate limits
    security.init_app(app)
    return app


def _init_learning_loop(app: Flask) -> None:
    """Registry CLI, retraining tasks and schedule, review queue, model health and data export."""
    from flask_login import current_user  # noqa: PLC0415

    from app import dashboard, data_cli, export, loop_cli, review
    from app.services import reviewers
    from app.tasks import retraining

    retraining.init_app(app)
    app.register_blueprint(review.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(export.bp)
    # A callable, so pages that never show the review link never query the role.
    app.context_processor(lambda: {"can_review": lambda: reviewers.is_reviewer(current_user)})
    app.cli.add_command(loop_cli.models)
    app.cli.add_command(loop_cli.retrain)
    app.cli.add_command(loop_cli.reviewers)
    app.cli.add_command(data_cli.data)
