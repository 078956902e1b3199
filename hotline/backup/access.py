"""Whether this database user may read every table a backup or an export takes.

On a station server a staff role reads the change history only through a view that
leaves call-back notes out (``hotline.history.SHARED_VIEW``), never the table: a backup
of it would be a station without its history. Said before any folder is made, naming
the tables, instead of the server's refusal of whichever table it met first.
"""

from __future__ import annotations

from sqlmodel import Session

from hotline import db
from hotline.backup.manifest import tables
from hotline.errors import DatabaseUnavailable


def require_every_table(session: Session, *, doing: str) -> None:
    """Refuse a PostgreSQL user who may not read some table the export takes; ``doing``
    says what it was ("back up", "export")."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    names = [table.name for table in tables()]
    # Any column will do: the private ones are left out unless asked for (``privacy``).
    lacking = db.tables_lacking(connection, names, "has_any_column_privilege(t, 'SELECT')")
    if lacking:
        role = connection.exec_driver_sql("SELECT current_user").scalar()
        raise DatabaseUnavailable(
            f"the PostgreSQL role {role} may not read the station's {', '.join(lacking)} "
            f"table{'s' if len(lacking) > 1 else ''}: {doing} as the station's owner or "
            f"a producer (`hotline db grant {role} --as producer`)"
        )
