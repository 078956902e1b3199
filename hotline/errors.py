"""Domain errors: each carries a one-line message that the CLI and TUI show as is."""


class HotlineError(Exception):
    """Base of every error a user can cause; its message names what is wrong and where."""


class StationNotFound(HotlineError):
    """No station folder could be found or the folder given is not one."""


class SchemaError(HotlineError):
    """The database schema is older or newer than this version of the tool."""


class DatabaseUnavailable(HotlineError):
    """The database cannot be used: damaged or missing, unsupported URL, driver not installed."""


class NotFound(HotlineError):
    """An episode, member, question, booking or job that does not exist."""


class InvalidInput(HotlineError):
    """A value that fails validation: bad date, unknown sector, over-long text, …"""


class Conflict(HotlineError):
    """A change refused because of the state of other records."""


class BookingConflict(Conflict):
    """A booking refused: overlap, guest limit, inactive member, cancelled or aired episode."""


class InvalidTransition(Conflict):
    """A status move outside the lifecycle; the message names the allowed moves."""
