"""Errors of the answering library; the HTTP layer maps each to a status code with its message as detail."""


class QAError(Exception):
    """Base class: the message is shown to the user as is."""


class InvalidRequest(QAError):
    """The request cannot be answered as sent (empty message, unknown document, ...)."""


class IndexUnavailable(QAError):
    """No usable index is loaded; the message says how to build one."""


class NotFound(QAError):
    """What the request names does not exist (a session, a turn, a job, a document)."""


class Conflict(QAError):
    """The request would clash with the state of things (a name taken, a reindex running)."""


class JobRunning(Conflict):
    """A reindex is already running; ``job`` is its status."""

    def __init__(self, job: dict):
        super().__init__(f"a reindex is already running (job {job['id']}); poll GET /api/reindex/{job['id']}")
        self.job = job


class Unavailable(QAError):
    """A store the request needs does not answer now (the database of the reindex jobs)."""


class TooLarge(QAError):
    """What was sent is over a size limit."""


# The status code of each error of the answering library: the HTTP layer reads this one table.
STATUS = {InvalidRequest: 400, NotFound: 404, Conflict: 409, TooLarge: 413, IndexUnavailable: 503, Unavailable: 503}


def status_of(exc: QAError) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 500)
