"""Errors of the answering library; the HTTP layer maps each to a status code with its message as detail."""


class QAError(Exception):
    """Base class: the message is shown to the user as is."""


class InvalidRequest(QAError):
    """The request cannot be answered as sent (empty message, unknown document, ...)."""


class IndexUnavailable(QAError):
    """No usable index is loaded; the message says how to build one."""


class NotFound(QAError):
    """What the request names does not exist (a session, a turn)."""


# The status code of each error of the answering library: the HTTP layer reads this one table.
STATUS = {InvalidRequest: 400, NotFound: 404, IndexUnavailable: 503}


def status_of(exc: QAError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
