-- Undo V7: the search column and its index.
DROP INDEX designs_search_idx;
ALTER TABLE designs DROP COLUMN search;
