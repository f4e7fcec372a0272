-- V6__target_turns.sql — the order runners take an execution's targets in.
-- Targets are resolved in registration order, which usually lists a
-- database's schemas together; taken in that order, every session of a
-- fleet-wide run would work in one database at a time, contending for its
-- catalogs. A target's turn is its place among the execution's targets in
-- its physical database (host, port, database): 1, 2, … Runners claim by
-- turn, then ordinal — round-robin over the databases. Targets recorded
-- before this have turn 0 and keep their ordinal order.
-- Unqualified names: the migration engine applies this in schema `infra`.

ALTER TABLE execution_targets ADD COLUMN turn integer NOT NULL DEFAULT 0;
