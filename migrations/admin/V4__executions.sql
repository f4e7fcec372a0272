-- V4__executions.sql — migration executions (issue 6): what was asked, one row
-- per target (database + schema) that job runners claim under a lease, the
-- numbered events streamed to clients, and the targets currently being
-- migrated (the overlap guard). Unqualified names: applied in schema `infra`.

CREATE TABLE executions (
	id                uuid PRIMARY KEY,
	kind              text NOT NULL DEFAULT 'migrate' CHECK (kind IN ('migrate', 'undo')),
	source            text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'event', 'schedule')),
	scope             text NOT NULL
		CHECK (scope IN ('all', 'admin', 'regional', 'tenant', 'single')),
	-- {region, tenant, database_id, database_type}: what the scope was narrowed by
	filters           jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(filters) = 'object'),
	target_version    text,			-- NULL: the newest
	dry_run           boolean NOT NULL DEFAULT false,
	status            text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'cancelled',
				  'rolled_back')),
	total_targets     integer NOT NULL CHECK (total_targets > 0),
	completed_targets integer NOT NULL DEFAULT 0,	-- finished and succeeded
	failed_targets    integer NOT NULL DEFAULT 0,
	skipped_targets   integer NOT NULL DEFAULT 0,	-- cancelled, or skipped (open circuit)
	current_target    text,			-- "database-name/schema"
	executed_by       text NOT NULL,
	tenant            text,			-- a tenant-bound creator's tenant: who may see it
	created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at        timestamptz,
	completed_at      timestamptz,
	error_message     text,
	rollback_of       uuid REFERENCES executions (id),
	batch_id          text,
	idempotency_key   text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
	request_hash      text,			-- of the validated request, for Idempotency-Key
	cancel_requested  boolean NOT NULL DEFAULT false,
	-- The last event's number. Taken with UPDATE … RETURNING in the
	-- transaction that inserts the event, so one execution's events commit
	-- in seq order and a client resuming after seq N never misses one.
	event_seq         bigint NOT NULL DEFAULT 0,
	CHECK (completed_targets + failed_targets + skipped_targets <= total_targets),
	UNIQUE (executed_by, idempotency_key)
);

-- GET /migrations pages newest first over (created_at, id).
CREATE INDEX executions_created ON executions (created_at DESC, id DESC);
CREATE INDEX executions_rollback_of ON executions (rollback_of) WHERE rollback_of IS NOT NULL;

CREATE TABLE execution_targets (
	execution_id     uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
	ordinal          integer NOT NULL,
	database_id      uuid NOT NULL REFERENCES databases (id),
	database_name    text NOT NULL,		-- the registry's name when resolved
	schema_name      text NOT NULL,
	database_type    text NOT NULL,		-- which set: migrations/<database_type>/
	-- undo: the version to undo down to ('0': everything); migrate: NULL,
	-- the execution's target_version applies
	target_version   text,
	status           text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'skipped',
				  'cancelled')),
	attempts         integer NOT NULL DEFAULT 0,	-- engine attempts, over every claim
	claims           integer NOT NULL DEFAULT 0,	-- times a runner took it
	-- [{version, description, script, execution_ms}] in the order run
	applied          jsonb NOT NULL DEFAULT '[]'::jsonb CHECK (jsonb_typeof(applied) = 'array'),
	version_before   text,			-- the schema's version before the first migration
	before_known     boolean NOT NULL DEFAULT false,	-- version_before is recorded
	current_version  text,
	error            text,
	lease_owner      text,			-- "host:pid" of the runner holding it
	lease_expires_at timestamptz,
	started_at       timestamptz,
	completed_at     timestamptz,
	PRIMARY KEY (execution_id, ordinal)
);

-- Runners look for pending targets and for running ones whose lease expired.
CREATE INDEX execution_targets_open ON execution_targets (lease_expires_at)
	WHERE status IN ('pending', 'in_progress');
CREATE INDEX execution_targets_database ON execution_targets (database_id, schema_name);

CREATE TABLE execution_events (
	execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
	seq          bigint NOT NULL,
	type         text NOT NULL CHECK (type IN ('progress', 'target', 'done')),
	data         jsonb NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
	PRIMARY KEY (execution_id, seq)
);

-- The targets of executions not yet finished, inserted in the transaction
-- that creates the execution and deleted in the one that finishes it. A
-- unique violation here is the 409 RES_002 overlap refusal: an execution
-- overlapping a running one is refused, not queued (docs/API.md says why).
CREATE TABLE active_targets (
	database_id  uuid NOT NULL,
	schema_name  text NOT NULL,
	execution_id uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
	PRIMARY KEY (database_id, schema_name)
);

CREATE INDEX active_targets_execution ON active_targets (execution_id);
