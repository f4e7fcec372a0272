-- V5__tenants_events.sql — tenants (issue 7), the outbox's consumer state
-- (events processed at least once, retried with backoff, dead when they keep
-- failing), migration schedules and webhook alerts.
-- Unqualified names: the migration engine applies this in schema `infra`.

CREATE TABLE tenants (
	id                     uuid PRIMARY KEY,
	slug                   text NOT NULL CHECK (slug ~ '^[a-z][a-z0-9_]{1,39}$'),
	name                   text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	database_id            uuid NOT NULL REFERENCES databases (id),
	schema_name            text NOT NULL CHECK (length(schema_name) BETWEEN 1 AND 63),
	status                 text NOT NULL DEFAULT 'provisioning'
		CHECK (status IN ('provisioning', 'active', 'failed', 'deleted')),
	error                  text,		-- why it is failed
	-- The tenant's latest migration started by POST /tenants or
	-- /tenants/{id}/migrate. Assigned before the execution exists (the
	-- tenant.created event carries it), hence no foreign key.
	migration_execution_id uuid,
	created_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
	created_by             text NOT NULL,
	updated_at             timestamptz NOT NULL DEFAULT clock_timestamp(),
	deleted_at             timestamptz,
	deleted_by             text,
	CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);

-- A slug names one live tenant; a deleted tenant frees it. Two live tenants
-- never share a schema.
CREATE UNIQUE INDEX tenants_slug_live ON tenants (slug) WHERE status <> 'deleted';
CREATE UNIQUE INDEX tenants_schema_live ON tenants (database_id, schema_name)
	WHERE status <> 'deleted';
-- Keyset pagination walks (created_at, id).
CREATE INDEX tenants_created ON tenants (created_at, id);

-- The outbox's consumer: each event is claimed by one runner under a lease
-- (FOR UPDATE SKIP LOCKED), handled, and marked done; a failing handler is
-- retried at next_attempt_at with exponential backoff and jitter, and after
-- EVENT_RETRY_ATTEMPTS attempts the event is dead with its last error.
-- published_at is when it was done.
ALTER TABLE outbox
	ADD COLUMN status text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'processing', 'done', 'dead')),
	ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
	ADD COLUMN lease_owner text,
	ADD COLUMN lease_expires_at timestamptz,
	-- The execution the event starts, chosen once (before it is created)
	-- so that a second delivery finds it instead of starting another.
	ADD COLUMN execution_id uuid UNIQUE,
	-- What handling it did ({execution_id}, {alert}, {skipped: why}).
	ADD COLUMN result jsonb;

UPDATE outbox SET status = 'done' WHERE published_at IS NOT NULL;
DROP INDEX outbox_pending;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status IN ('pending', 'processing');
CREATE INDEX outbox_status ON outbox (status, id);
CREATE INDEX outbox_type ON outbox (event_type, id);

-- Migration schedules: a one-off (run_at) or recurring (cron, UTC) execution
-- request. A runner claims a due schedule under a lease (FOR UPDATE SKIP
-- LOCKED: one host fires it) and starts an execution whose id is
-- next_execution_id, chosen when the occurrence was scheduled: however
-- often an occurrence is attempted, it yields at most one execution (the
-- primary key of executions), and the id changes only once it has fired.
CREATE TABLE schedules (
	id                uuid PRIMARY KEY,
	name              text NOT NULL,
	-- the execute body's fields: {scope, region, tenant, database_id,
	-- database_type, target_version}, validated as POST /migrations/execute
	request           jsonb NOT NULL CHECK (jsonb_typeof(request) = 'object'),
	cron              text,
	run_at            timestamptz,
	enabled           boolean NOT NULL DEFAULT true,
	next_run_at       timestamptz,		-- NULL once a one-off has fired
	next_execution_id uuid NOT NULL,
	last_run_at       timestamptz,		-- the occurrence last fired (or tried)
	last_execution_id uuid,
	last_error        text,			-- why the last occurrence started nothing
	runs              integer NOT NULL DEFAULT 0,	-- executions started
	lease_owner       text,
	lease_expires_at  timestamptz,
	tenant            text,			-- a tenant-bound creator's tenant
	created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
	created_by        text NOT NULL,
	CHECK ((cron IS NULL) <> (run_at IS NULL))
);

CREATE UNIQUE INDEX schedules_name ON schedules (coalesce(tenant, ''), name);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled;
CREATE INDEX schedules_created ON schedules (created_at, id);

-- Alerts to the WEBHOOK_URLS (an outbox of their own): raised by an insert
-- in the transaction of the change they report, delivered by the runners'
-- alerts task with retries and backoff, then delivered, failed, or skipped
-- (no webhook configured).
CREATE TABLE alerts (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind             text NOT NULL
		CHECK (kind IN ('execution.failed', 'event.dead', 'database.unhealthy')),
	payload          jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
	status           text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
	attempts         integer NOT NULL DEFAULT 0,
	next_attempt_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
	-- digests of the webhook URLs that accepted it (a retry skips them)
	delivered_to     text[] NOT NULL DEFAULT '{}',
	lease_owner      text,
	lease_expires_at timestamptz,
	last_error       text,
	created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
	delivered_at     timestamptz
);

CREATE INDEX alerts_due ON alerts (next_attempt_at) WHERE status = 'pending';
