"""Errors of the answering library; the HTTP layer maps each to a status code with its message as detail."""


class QAError(Exception):
    """Base class: the message is shown to the user as is."""


class InvalidRequest(QAError):
    """The request cannot be answered as sent (empty message, unknown document, ...)."""


class IndexUnavailable(QAError):
    """No usable index is loaded; the message says how to build one."""
