"""Program Q&A server: grounded answers with citations over the indexer's index, and the HTTP API."""
