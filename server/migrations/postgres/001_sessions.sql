-- Conversations, their turns, and the owners' insights (see server/answering/sessions.py for SQLite's).
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, created DOUBLE PRECISION, updated DOUBLE PRECISION);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated);
CREATE TABLE IF NOT EXISTS turns (
    session_id TEXT, n INTEGER, created DOUBLE PRECISION, data TEXT, PRIMARY KEY (session_id, n));
CREATE TABLE IF NOT EXISTS asked (
    session_id TEXT, n INTEGER, created DOUBLE PRECISION, message TEXT, query TEXT, answered INTEGER, reason TEXT,
    docs TEXT, names TEXT, PRIMARY KEY (session_id, n));
CREATE INDEX IF NOT EXISTS asked_created ON asked (created);
CREATE TABLE IF NOT EXISTS feedback (
    session_id TEXT, n INTEGER, created DOUBLE PRECISION, rating TEXT, reason TEXT, PRIMARY KEY (session_id, n));
