-- V2__auth.sql — authorization state (lib/role_bindings.c, lib/auth.c):
-- role bindings, revoked tokens, and the generation counters that make a
-- change of either visible on every host. Unqualified names: applied to
-- schema `infra` with search_path set to it.

-- role → permissions; seeded from ROLE_BINDINGS for absent roles, edited
-- through PUT /auth/roles/{role}. An empty array is a binding that grants
-- nothing (and stops the seed from bringing the role back).
CREATE TABLE role_bindings (
    role        text PRIMARY KEY CHECK (length(role) BETWEEN 1 AND 255),
    permissions text[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text
);

-- Logged-out tokens, by jti, kept until they would have expired anyway
-- (pruned by lib/revocation.c).
CREATE TABLE revoked_tokens (
    jti        text PRIMARY KEY,
    sub        text,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX revoked_tokens_expires_at_idx ON revoked_tokens (expires_at);

-- Bumped in the same transaction as every change of role_bindings or
-- revoked_tokens; memcached carries a copy (lib/auth_gen.c).
CREATE TABLE auth_generations (
    name       text PRIMARY KEY,
    generation bigint NOT NULL DEFAULT 1
);
INSERT INTO auth_generations (name, generation) VALUES
    ('role_bindings', 1),
    ('revocations', 1);
