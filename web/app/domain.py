"""What a service raises when it cannot do what it was asked.

Services never answer HTTP: they return results or raise these, and
``app.http.errors`` turns them into answers in one place (403, 404, 409, or
412 on the API, 429). Errors about a form's or a body's input (``AccountError``,
``TagError``...) are ValueErrors that the view shows next to the field.
"""


class DomainError(Exception):
    """Base of the errors below; the message is written for the person who asked."""


class NotFoundError(DomainError):
    """No such thing for this owner. Also what another owner's thing is, so that ids leak nothing."""


class NotAllowed(DomainError):
    """The caller may not do this here (registration closed, not an administrator); nothing was done."""


class ConflictError(DomainError):
    """The thing changed since the caller read it; nothing was written."""


class RuleConflict(DomainError):
    """Doing this would break a rule about the current state (the last administrator
    cannot be removed, an invitation is used once); nothing was done."""


class RateLimited(DomainError):
    """Too many uses of something limited; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
