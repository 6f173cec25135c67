"""The one settings object of the product: the indexer's settings plus the server's own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from indexer.settings import PROJECT_ROOT, IndexSettings

MIN_TOKEN_CHARS = 16
EXAMPLE_TOKENS = frozenset({"change-me", "changeme", "change-me-please", "secret", "password", "admin", "token"})


class Settings(IndexSettings):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64, description="Server processes accepting on the port (--workers).")
    session_db: Path = Field(PROJECT_ROOT / "var" / "sessions.sqlite", description="SQLite file of chat sessions.")
    weights_file: Path | None = Field(
        None, description="Fitted answering weights (default: the package's weights.json; see calibrate --output)."
    )
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://user@host:port/db): sessions shared by replicas; unset: SQLite "
        "in PQA_SESSION_DB.",
    )
    session_ttl_hours: float = Field(24.0, gt=0)
    session_max_turns: int = Field(20, ge=1, le=1000)
    max_message_chars: int = Field(2000, ge=10, le=100_000)
    search_max_k: int = Field(50, ge=1, le=500)
    reload_interval_seconds: float = Field(
        1.0, ge=0, description="How often the server checks for a new index version (0: never)."
    )
    admin_token: str | None = Field(None, description="Bearer token for reindex/upload/delete; unset disables them.")
    max_upload_mb: float = Field(20.0, gt=0)
    upload_folder: str = Field(
        "uploads",
        description="Folder inside the corpus where uploaded files go (git-ignored: uploads never dirty the "
        "tracked seed documents); '' puts them at the corpus root.",
    )
    reindex_timeout_seconds: float = Field(1800.0, gt=0, description="A reindex job running longer is stopped.")
    cors_origins: list[str] = Field(default_factory=list)
    batch_window_ms: float = Field(
        2.0, ge=0, le=50, description="Micro-batching window for concurrent queries; 0 turns batching off."
    )
    max_body_kb: float = Field(256.0, gt=0, description="Largest JSON request body (uploads have their own limit).")
    rate_limit_per_minute: int = Field(0, ge=0, description="Requests per minute per client address; 0 turns it off.")
    chat_rate_limit_per_minute: int = Field(
        600, ge=0, description="Chat answers per minute per client address (bursts of as many); 0 turns it off."
    )
    sessions_per_minute: int = Field(
        600, ge=0, description="New conversations per minute per client address; 0 turns the limit off."
    )
    admin_failures_per_minute: int = Field(
        10, ge=1, description="Wrong admin tokens per minute per client address before 429."
    )
    max_request_messages: int = Field(50, ge=1, le=500, description="Messages in one /v1 request.")
    max_request_chars: int = Field(
        12_000, ge=100, description="Characters of all user messages in one /v1 request (each is replayed)."
    )
    header_timeout_seconds: float = Field(10.0, gt=0, description="A request's headers must arrive within this.")
    max_header_kb: float = Field(64.0, gt=0, description="Largest size of a request's headers (431 beyond).")
    max_headers: int = Field(100, ge=1, description="Most headers in one request (431 beyond).")
    max_connections_per_client: int = Field(
        200, ge=0, description="Open connections per client address; further ones are closed (0: no limit)."
    )
    body_timeout_seconds: float = Field(60.0, gt=0, description="A request's body must arrive within this.")
    forwarded_allow_ips: str = Field(
        "",
        description="Proxies whose X-Forwarded-For is believed (comma-separated IPs or CIDRs, '*' for all); "
        "empty: none, the client address is the socket's.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated keys; when set, /api/chat, /api/search and /v1/* need `Authorization: Bearer <key>`.",
    )
    model_name: str = Field("program-qa", description="The model name /v1/models lists (OpenAI-compatible API).")
    insights: bool = Field(
        True,
        description="Keep each question's text (no address) and its feedback for the owners' insights "
        "(/insights); off: nothing is stored for them.",
    )
    insights_retention_days: float = Field(90.0, gt=0, description="Days a stored question or rating is kept.")

    @field_validator("admin_token")
    @classmethod
    def _strong_token(cls, value: str | None) -> str | None:
        """A weak admin token (short, or an example from documentation) is refused at start-up."""
        if value is None:
            return None
        if len(value) < MIN_TOKEN_CHARS or value.lower().strip() in EXAMPLE_TOKENS:
            raise ValueError(
                f"PQA_ADMIN_TOKEN is too weak (at least {MIN_TOKEN_CHARS} characters, not an example); make one "
                'with `python -c "import secrets; print(secrets.token_urlsafe(24))"`'
            )
        return value

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value
