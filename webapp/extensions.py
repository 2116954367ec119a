"""Flask extensions, created once and bound to each app in the factory, and the session's savepoints."""
from collections.abc import Iterator
from contextlib import contextmanager

from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
compress = Compress()


@contextmanager
def savepoint() -> Iterator[None]:
    """A savepoint nested in the session's transaction: the block's writes are undone alone if it fails,
    and otherwise saved when the caller commits.

    SQLite's driver begins a transaction only before a write, so a savepoint opened first would be the
    transaction itself, and releasing it would commit the block's writes at once: the transaction is
    opened first.
    """
    connection = db.session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN")
    with db.session.begin_nested():
        yield
