-- Tier Console L3 schema, version 1. The database is the source of truth; every
-- table carries a `version` that increases on each update, which the cache
-- stores in its value envelope to detect stale copies.

CREATE TABLE IF NOT EXISTS users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    timezone      text NOT NULL DEFAULT 'UTC',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       bigint NOT NULL DEFAULT 1
);

CREATE TABLE IF NOT EXISTS journal_entries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title       text NOT NULL,
    content     text NOT NULL,
    mood_score  smallint NOT NULL CHECK (mood_score BETWEEN 1 AND 10),
    tags        text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL DEFAULT 1,
    content_tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || content)) STORED
);
CREATE INDEX IF NOT EXISTS journal_entries_user_created ON journal_entries (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS journal_entries_fts ON journal_entries USING gin (content_tsv);

CREATE TABLE IF NOT EXISTS chat_sessions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title           text NOT NULL,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed', 'expired')),
    message_count   integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_active_at  timestamptz NOT NULL DEFAULT now(),
    version         bigint NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS chat_sessions_user ON chat_sessions (user_id, last_active_at DESC);
CREATE INDEX IF NOT EXISTS chat_sessions_active ON chat_sessions (last_active_at DESC) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS chat_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  bigint NOT NULL REFERENCES chat_sessions(id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    role        text NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, seq)
);

CREATE TABLE IF NOT EXISTS psychology_knowledge (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]{1,128}$'),
    topic       text NOT NULL,
    title       text NOT NULL,
    body        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS psychology_knowledge_topic ON psychology_knowledge (topic);

-- The version rises on every UPDATE whoever the writer is (repositories, the
-- platform's own backend, a DBA at psql), so a cached copy is never wrongly
-- judged fresh.
CREATE OR REPLACE FUNCTION tier_bump_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS users_bump_version ON users;
CREATE TRIGGER users_bump_version BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION tier_bump_version();
DROP TRIGGER IF EXISTS journal_entries_bump_version ON journal_entries;
CREATE TRIGGER journal_entries_bump_version BEFORE UPDATE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION tier_bump_version();
DROP TRIGGER IF EXISTS chat_sessions_bump_version ON chat_sessions;
CREATE TRIGGER chat_sessions_bump_version BEFORE UPDATE ON chat_sessions
    FOR EACH ROW EXECUTE FUNCTION tier_bump_version();
DROP TRIGGER IF EXISTS psychology_knowledge_bump_version ON psychology_knowledge;
CREATE TRIGGER psychology_knowledge_bump_version BEFORE UPDATE ON psychology_knowledge
    FOR EACH ROW EXECUTE FUNCTION tier_bump_version();

-- Mood analytics: one query, parameterized by user and period (days).
CREATE OR REPLACE FUNCTION mood_stats(p_user bigint, p_days integer)
RETURNS TABLE (entries bigint, avg_mood numeric, min_mood smallint, max_mood smallint,
               first_at timestamptz, last_at timestamptz, version bigint)
LANGUAGE sql STABLE AS $$
    SELECT count(*), round(avg(mood_score), 2), min(mood_score), max(mood_score),
           min(created_at), max(created_at), coalesce(sum(version), 0)::bigint
    FROM journal_entries
    WHERE user_id = p_user AND created_at >= now() - make_interval(days => p_days)
$$;

CREATE TABLE IF NOT EXISTS cache_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    os_user         text NOT NULL,
    pg_role         text NOT NULL DEFAULT current_user,
    redis_user      text NOT NULL DEFAULT '',
    profile         text NOT NULL DEFAULT '',
    action          text NOT NULL,          -- invalidate.key, invalidate.pattern, warm.knowledge, evict.session, ...
    args            jsonb NOT NULL DEFAULT '{}'::jsonb,
    dry_run         boolean NOT NULL DEFAULT false,
    matched         bigint NOT NULL DEFAULT 0,
    affected        bigint NOT NULL DEFAULT 0,
    result          text NOT NULL,          -- ok, partial, cancelled, error: <reason>
    duration_ms     double precision NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS cache_audit_at ON cache_audit (at DESC);
