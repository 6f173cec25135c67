"""Program Q&A indexer: documents on disk → clean chunks → embeddings → FAISS + BM25 index on disk."""

__version__ = "0.1.0"
