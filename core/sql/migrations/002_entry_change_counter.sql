-- Mood analytics need a version that only ever goes up: the sum of entry
-- versions (001) drops when an entry is deleted, which let an older cached
-- statistic win over a fresh one. A per-user counter of entry changes,
-- maintained by statement-level triggers (cheap for COPY and bulk updates),
-- is that version.
CREATE TABLE IF NOT EXISTS user_entry_changes (
    user_id  bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    changes  bigint NOT NULL DEFAULT 0
);

CREATE OR REPLACE FUNCTION tier_count_entry_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO user_entry_changes (user_id, changes)
    SELECT user_id, count(*) FROM changed_rows GROUP BY user_id
    ON CONFLICT (user_id) DO UPDATE SET changes = user_entry_changes.changes + EXCLUDED.changes;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS journal_entries_changes_insert ON journal_entries;
CREATE TRIGGER journal_entries_changes_insert AFTER INSERT ON journal_entries
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tier_count_entry_changes();
DROP TRIGGER IF EXISTS journal_entries_changes_update ON journal_entries;
CREATE TRIGGER journal_entries_changes_update AFTER UPDATE ON journal_entries
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tier_count_entry_changes();
DROP TRIGGER IF EXISTS journal_entries_changes_delete ON journal_entries;
CREATE TRIGGER journal_entries_changes_delete AFTER DELETE ON journal_entries
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION tier_count_entry_changes();

-- Databases migrated before this one: start every user's counter at their
-- current number of entries.
INSERT INTO user_entry_changes (user_id, changes)
SELECT user_id, count(*) FROM journal_entries GROUP BY user_id
ON CONFLICT (user_id) DO NOTHING;

CREATE OR REPLACE FUNCTION mood_stats(p_user bigint, p_days integer)
RETURNS TABLE (entries bigint, avg_mood numeric, min_mood smallint, max_mood smallint,
               first_at timestamptz, last_at timestamptz, version bigint)
LANGUAGE sql STABLE AS $$
    SELECT count(*), round(avg(mood_score), 2), min(mood_score), max(mood_score),
           min(created_at), max(created_at),
           coalesce((SELECT changes FROM user_entry_changes WHERE user_id = p_user), 0)
    FROM journal_entries
    WHERE user_id = p_user AND created_at >= now() - make_interval(days => p_days)
$$;
