"""Two kinds of error: ones whose reason a user may read, and everything else."""

from __future__ import annotations

from bot.messages import Msg, plain_text


class AinewsError(Exception):
    """Base of every error ainews raises on purpose.

    `explained` is the reason as catalogue data, for errors an operator reads (config, database,
    start-up): the CLI shows it in its own language, while `str()` stays plain English for logs.
    """

    def __init__(self, *args: object, explained: Msg | None = None) -> None:
        if explained is not None and not args:
            args = (plain_text(explained),)
        super().__init__(*args)
        self.explained = explained


class ConfigError(AinewsError):
    """The configuration is invalid; the message names the file, the key and the expectation."""


class StartupError(AinewsError):
    """The service cannot start (port taken, database in use); the message says which and why."""


class CommandError(AinewsError):
    """A user's command was wrong; the message is shown to that user in the channel's language.

    `message` is a catalogue `Msg`; a plain string (from code that predates the catalogue) is
    shown as it is.
    """

    def __init__(self, message: Msg | str, usage: str = "") -> None:
        super().__init__(message if isinstance(message, str) else message.key)
        self.message = message
        self.usage = usage


class FetchError(AinewsError):
    """A source or page could not be fetched or parsed; recorded on the row, never fatal."""


class BlockedAddressError(FetchError):
    """The SSRF guard refused a URL or a resolved address."""


class DeliveryError(AinewsError):
    """A notifier could not deliver.

    `token`: the platform refused our credentials (revoked, invalid, missing scope), so the whole
    platform is paused and no channel is blamed. `permanent`: this destination will not accept
    anything until someone fixes it (channel gone, bot not in it), so the channel is disabled.
    `rejected`: the platform refused this one message (bad request), so only that delivery fails
    and the channel keeps receiving. None of them: retry later.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        rejected: bool = False,
        token: bool = False,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.permanent = permanent
        self.rejected = rejected
        self.token = token
        self.retry_after = retry_after


class LLMError(AinewsError):
    """The LLM endpoint failed or answered something that did not pass validation."""

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class StoreError(AinewsError):
    """The database cannot be used as configured (unreachable, missing, read-only, unsupported);
    the message names the database (password hidden) and what to fix."""


class UnsupportedDatabaseError(StoreError, ValueError):
    """The database URL names a backend ainews does not support."""
