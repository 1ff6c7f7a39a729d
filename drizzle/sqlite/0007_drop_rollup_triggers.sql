-- The roll-up tables are rebuilt next (a primary key, then WITHOUT ROWID): drop the triggers that
-- write them first, so no rename or drop meets a trigger naming a table that is briefly absent.
-- Migration `rollups_without_rowid` creates them again, unchanged.
DROP TRIGGER IF EXISTS `risk_rollups_after_insert`;
--> statement-breakpoint
DROP TRIGGER IF EXISTS `risk_rollups_after_convert`;
