"""Domain errors: each carries a one-line message that the CLI and TUI show as is.

The CLI speaks English; the desk speaks Chinese. An error raised where a producer at the
desk can meet it carries its Chinese line too (``zh``); :attr:`HotlineError.for_desk`
picks it, falling back to the English line.
"""


class HotlineError(Exception):
    """Base of every error a user can cause; its message names what is wrong and where."""

    def __init__(self, message: str = "", *, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh

    @property
    def for_desk(self) -> str:
        """The line the desk shows: Chinese where the raiser gave it."""
        return self.zh or str(self)


class StationNotFound(HotlineError):
    """No station folder could be found or the folder given is not one."""


class SchemaError(HotlineError):
    """The database schema is older or newer than this version of the tool."""


class DatabaseUnavailable(HotlineError):
    """The database cannot be used: damaged or missing, unsupported URL, driver not installed."""


class PrivateRefused(HotlineError):
    """Private columns (contacts) asked for by a database user who may not read them."""


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


class NeedsConfirmation(HotlineError):
    """A move that is allowed but irreversible or unusual, so a person must say yes first.

    The message (and ``zh``) says what will happen. The domain function that raised it
    takes ``confirm=True`` to go ahead: the CLI asks (or takes ``--yes``), the desk shows
    a confirmation dialog, and both repeat the call with ``confirm=True``. Nothing has
    been changed when it is raised.
    """
