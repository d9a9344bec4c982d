-- Entry search (issue 15) matches the title as a literal substring beside the
-- full-text match: `title ILIKE '%…%'` alone can use no B-tree or the tsvector
-- GIN index, so the OR of the two made PostgreSQL read every journal entry. A
-- trigram GIN index on the title lets both halves be bitmap index scans.
-- pg_trgm ships with PostgreSQL (contrib) and is a trusted extension since
-- PostgreSQL 13: the database owner may create it without superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS journal_entries_title_trgm ON journal_entries USING gin (title gin_trgm_ops);
