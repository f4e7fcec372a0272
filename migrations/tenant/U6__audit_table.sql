-- Undo V6: the audit table.
DROP TABLE audit_events;
