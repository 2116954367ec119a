"""Alembic environment: migrate the database of the current Flask app."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

database = current_app.extensions["migrate"].db
target_metadata = database.metadata


def run_migrations_offline() -> None:
    """Write the SQL instead of running it (`flask db upgrade --sql`)."""
    context.configure(
        url=database.engine.url.render_as_string(hide_password=False),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _skip_empty_autogenerate(context_, revision, directives) -> None:
    """`flask db migrate` with no model change writes no empty migration."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logging.getLogger("alembic").info("No changes in the models; no migration written.")


def run_migrations_online() -> None:
    """Run the migrations on a live connection."""
    with database.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
            compare_type=True,
            process_revision_directives=_skip_empty_autogenerate,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
