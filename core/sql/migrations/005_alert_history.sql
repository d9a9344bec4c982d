-- Alert history (issue 15): the threshold violations the console saw, kept
-- when the window closes. A row is written when an alert is raised and
-- completed (ended, worst, duration_ms) when it clears. The key (recorder,
-- metric, started_at) lets the raise and the end be written in either order
-- by upserts: the console's writes run on worker threads, in no fixed order.
CREATE TABLE IF NOT EXISTS alert_history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorder     text NOT NULL,                 -- the console process that saw it (host:pid:random)
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,                   -- NULL while raised (or the console stopped first)
    source_kind  text NOT NULL CHECK (source_kind IN ('console', 'instance', 'fleet')),
    source       text NOT NULL DEFAULT '',      -- "This console", an instance's name, "Fleet: a, b"
    metric       text NOT NULL,                 -- threshold name: hit_rate, redis_p99, ...
    status       text NOT NULL DEFAULT 'violation',
    value        double precision NOT NULL,     -- when raised
    worst        double precision NOT NULL,
    limit_value  double precision NOT NULL,
    unit         text NOT NULL DEFAULT '',
    duration_ms  bigint,                        -- ended_at - started_at
    profile      text NOT NULL DEFAULT '',
    os_user      text NOT NULL DEFAULT '',
    pg_role      text NOT NULL DEFAULT current_user,
    UNIQUE (recorder, metric, started_at)
);
CREATE INDEX IF NOT EXISTS alert_history_started ON alert_history (started_at DESC);
CREATE INDEX IF NOT EXISTS alert_history_metric ON alert_history (metric, started_at DESC);
