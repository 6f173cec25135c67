"""Errors whose message is shown to the user as is: each says what is wrong and what to do."""


class IndexerError(Exception):
    """Base class of the indexer's user-facing errors."""


class ModelError(IndexerError):
    """The embedding model cannot be found, verified or loaded."""


class DocumentError(IndexerError):
    """One document cannot be read; the rest of the corpus is still indexed."""


class IndexNotFoundError(IndexerError):
    """No index version has been published yet."""


class IndexCorruptError(IndexerError):
    """An index version on disk is damaged or belongs to another model."""


class BuildError(IndexerError):
    """A build failed; the previous index version stays in service."""
