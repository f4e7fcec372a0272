-- V3__registry.sql — the database registry (issue 5): managed databases with
-- their encrypted credentials, the probe history, each database's circuit
-- breaker and probe schedule, and the outbox of domain events.
-- Unqualified names: the migration engine applies this in schema `infra`.

CREATE TABLE databases (
	id              uuid PRIMARY KEY,
	name            text NOT NULL,
	host            text NOT NULL,
	port            integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
	database_name   text NOT NULL,
	username        text NOT NULL,
	-- AES-256-GCM under the key ring's key `password_kid`: nonce(12) ||
	-- ciphertext || tag(16), the database id as additional data (lib/crypto.c).
	password_kid    text NOT NULL,
	password_enc    bytea NOT NULL,
	database_type   text NOT NULL
		CHECK (database_type IN ('admin', 'shared', 'analytics', 'tenant')),
	region          text,
	schema_name     text NOT NULL DEFAULT 'public',
	sslmode         text NOT NULL DEFAULT 'prefer'
		CHECK (sslmode IN ('disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full')),
	labels          jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(labels) = 'object'),
	auto_migrate    boolean NOT NULL DEFAULT false,
	is_active       boolean NOT NULL DEFAULT true,
	tenant          text,			-- the owning tenant's slug, NULL: platform
	version         integer NOT NULL DEFAULT 1,	-- +1 on every update (the ETag)
	created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	created_by      text NOT NULL,
	updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	updated_by      text NOT NULL,
	deleted_at      timestamptz,
	deleted_by      text
);

-- Names are unique among active databases only: a deleted one frees its name.
CREATE UNIQUE INDEX databases_name_active ON databases (name) WHERE is_active;
-- Keyset pagination walks (created_at, id).
CREATE INDEX databases_created ON databases (created_at, id);
CREATE INDEX databases_tenant ON databases (tenant, created_at, id) WHERE tenant IS NOT NULL;
-- infractl rotate-keys looks for rows not under the newest key.
CREATE INDEX databases_kid ON databases (password_kid);

-- One row per database: the latest probe, the circuit breaker and when the
-- next probe is due. Runners claim due rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE database_circuits (
	database_id          uuid PRIMARY KEY REFERENCES databases (id) ON DELETE CASCADE,
	state                text NOT NULL DEFAULT 'closed'
		CHECK (state IN ('closed', 'open', 'half_open')),
	consecutive_failures integer NOT NULL DEFAULT 0,
	opened_at            timestamptz,
	next_probe_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
	probe_owner          text,
	last_checked_at      timestamptz,
	last_is_healthy      boolean,
	last_response_ms     double precision,
	last_error           text,
	last_server_version  text,
	changed_at           timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX database_circuits_due ON database_circuits (next_probe_at);

-- Every probe, pruned after PROBE_RETENTION_HOURS.
CREATE TABLE database_probes (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	database_id      uuid NOT NULL REFERENCES databases (id) ON DELETE CASCADE,
	checked_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
	is_healthy       boolean NOT NULL,
	response_time_ms double precision NOT NULL,
	server_version   text,
	error            text,
	circuit          text NOT NULL
);

CREATE INDEX database_probes_recent ON database_probes (database_id, checked_at DESC);
CREATE INDEX database_probes_age ON database_probes (checked_at);

-- Domain events recorded in the same transaction as the change they describe
-- (database.registered, database.health_changed, …), consumed by the event
-- runner, which sets published_at.
CREATE TABLE outbox (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	event_type   text NOT NULL,
	resource_id  text,
	payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
	created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
	published_at timestamptz,
	attempts     integer NOT NULL DEFAULT 0,
	last_error   text
);

CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;
