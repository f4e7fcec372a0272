-- Undo V9: the trigger, then its function.
DROP TRIGGER designs_touch ON designs;
DROP FUNCTION touch_updated_at();
