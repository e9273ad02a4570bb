-- Written by hand (drizzle-kit generate --custom). Writers no longer run a sequencing pass after
-- each commit (src/db/pg-feed.ts): an insert into events wakes the feed's listeners instead, at
-- COMMIT (NOTIFY is transactional: a rolled-back insert wakes nobody), one notification per
-- transaction (PostgreSQL folds identical ones), with no round trip of the writer's own. The
-- listeners number the events (a pass) and read them; every feed read runs a pass first.
CREATE OR REPLACE FUNCTION orch_feed_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('orch_events', '');
  RETURN NULL;
END
$$;--> statement-breakpoint
CREATE TRIGGER events_wake AFTER INSERT ON events FOR EACH STATEMENT EXECUTE PROCEDURE orch_feed_wake();
