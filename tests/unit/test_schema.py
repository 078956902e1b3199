"""The shipped migrations build exactly the schema the models declare."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hotline import db
from hotline.errors import SchemaError
from hotline.models import SQLModel
from hotline.station import Station, open_station


def test_upgrading_an_empty_database_yields_the_models_schema(tmp_path: Path) -> None:
    engine = db.make_engine(db.sqlite_url(tmp_path / "empty.db"))
    db.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_known_revisions_match_the_migration_scripts() -> None:
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    chain = [rev.revision for rev in script.walk_revisions()][::-1]
    assert tuple(chain) == db.KNOWN_REVISIONS
    assert script.get_current_head() == db.SCHEMA_HEAD


def test_a_database_from_a_newer_schema_is_refused(station: Station) -> None:
    with station.engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer"):
        open_station(station.root)


@pytest.mark.sqlite_only("WAL and pragmas")
def test_sqlite_runs_in_wal_mode_with_foreign_keys(station: Station) -> None:
    with station.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
