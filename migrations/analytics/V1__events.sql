CREATE TABLE events (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    properties  jsonb NOT NULL DEFAULT '{}'::jsonb,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_time_idx ON events (occurred_at);
