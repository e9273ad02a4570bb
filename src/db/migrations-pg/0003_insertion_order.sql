-- Written by hand (drizzle-kit generate --custom). Two things SQLite gives the core for free:
--
-- 1. Insertion order. SQLite's rowid orders and pages tasks, streams and work products (db/dialect.ts
--    insertionOrder); PostgreSQL has none, so these tables get an identity column the core never
--    names. It is not in db/tables.ts: SQLite keeps its rowid, and the column is invisible to rows.
ALTER TABLE "tasks" ADD COLUMN "ord" bigint GENERATED ALWAYS AS IDENTITY;--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_ord_idx" ON "tasks" ("ord");--> statement-breakpoint
ALTER TABLE "streams" ADD COLUMN "ord" bigint GENERATED ALWAYS AS IDENTITY;--> statement-breakpoint
CREATE UNIQUE INDEX "streams_ord_idx" ON "streams" ("ord");--> statement-breakpoint
ALTER TABLE "work_products" ADD COLUMN "ord" bigint GENERATED ALWAYS AS IDENTITY;--> statement-breakpoint
CREATE UNIQUE INDEX "work_products_ord_idx" ON "work_products" ("ord");--> statement-breakpoint
-- 2. Deferrable foreign keys. Renaming ids cascades by hand inside one transaction (core/retire-ids.ts),
--    checked at COMMIT: SQLite's PRAGMA defer_foreign_keys, PostgreSQL's SET CONSTRAINTS ALL DEFERRED,
--    which only reaches constraints declared DEFERRABLE (still checked per statement by default).
DO $$
DECLARE c record;
BEGIN
  FOR c IN
    SELECT cl.relname AS tbl, co.conname AS con
    FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
    WHERE co.contype = 'f' AND n.nspname = current_schema()
  LOOP
    EXECUTE format('ALTER TABLE %I ALTER CONSTRAINT %I DEFERRABLE INITIALLY IMMEDIATE', c.tbl, c.con);
  END LOOP;
END $$;
