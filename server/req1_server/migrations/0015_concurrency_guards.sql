-- #13.8: guards against races the application alone cannot close.
--
-- module.definitions_version: bumped (row-locked) by every change or removal of one of the module's
-- attribute definitions before it checks whether objects use it; an object edit that sets attributes writes
-- only while the version it validated against is still current, taking the row FOR SHARE, so either the edit
-- waits and re-validates, or the definition change waits and then sees the value in use.
ALTER TABLE module ADD COLUMN definitions_version bigint NOT NULL DEFAULT 0;

-- At most one default view per module: keep the newest default where several exist, then let the
-- database refuse a second one.
UPDATE view v SET is_default = false
WHERE v.is_default AND EXISTS (
    SELECT 1 FROM view w
    WHERE w.module_id = v.module_id AND w.is_default AND (w.created_at, w.id) > (v.created_at, v.id));
CREATE UNIQUE INDEX view_one_default_per_module ON view (module_id) WHERE is_default;
