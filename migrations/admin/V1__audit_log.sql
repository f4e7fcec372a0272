-- V1__audit_log.sql — the audit trail (lib/audit.c): one row per mutating
-- request, authentication failure and break-glass use. Applied to schema
-- `infra` with search_path set to it, so names are unqualified.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL,
    resource    text,
    resource_id text,
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    client_ip   text,
    user_agent  text,
    request_id  text,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(details) = 'object')
);

-- GET /system/audit pages newest first by id, optionally by actor, action
-- and a lower bound on time.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, id);
CREATE INDEX audit_log_action_idx ON audit_log (action, id);
