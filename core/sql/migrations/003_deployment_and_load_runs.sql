-- Where the synthetic load may write (issue 13). A database is a sandbox only
-- if it holds a mark bound to this very cluster and database: `tierctl sandbox
-- up` writes the cluster's system identifier (pg_control_system(), unique per
-- initdb) and the database's oid and name. A dump of the sandbox restored
-- elsewhere carries the row but not a matching identifier, so it is no mark.
CREATE TABLE IF NOT EXISTS tier_deployment (
    kind               text PRIMARY KEY CHECK (kind IN ('sandbox')),
    system_identifier  text NOT NULL,
    database_oid       bigint NOT NULL,
    database_name      text NOT NULL,
    marked_at          timestamptz NOT NULL DEFAULT now()
);

-- Runs of the load that write synthetic rows on a database that is not a
-- sandbox (`tierctl load --allow-writes`). The rows a run creates are users
-- with e-mail `load-<run_id>-<n>@synthetic.invalid` and what belongs to them;
-- they are deleted when the run ends, or by `tierctl load --cleanup` once the
-- run is no longer alive (it holds an advisory lock for as long as it runs).
CREATE TABLE IF NOT EXISTS tier_load_runs (
    run_id       text PRIMARY KEY CHECK (run_id ~ '^[0-9a-f]{16}$'),
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    host         text NOT NULL,
    pid          integer NOT NULL,
    os_user      text NOT NULL DEFAULT '',
    profile      text NOT NULL DEFAULT ''
);
