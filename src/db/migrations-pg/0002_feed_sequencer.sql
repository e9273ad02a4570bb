-- The change feed's sequencing pass (src/db/pg-feed.ts, docs/postgres.md), written by hand
-- (drizzle-kit --custom: drizzle-kit does not manage functions). One call is one pass in the
-- caller's transaction:
-- - nothing committed is unsequenced: returns at once, without the lock;
-- - else it takes the sequencer's advisory lock ('orch', 2) — waiting for it when `wait`, else
--   only if free (busy: returns at once; the holder's caller calls again after its release, as
--   every caller that held the lock does, and that re-check sees this caller's commit, made
--   before the release);
-- - then, in statements with fresh snapshots (a VOLATILE function's statements each take one,
--   here after the lock, so they see every earlier pass's numbers), numbers up to `batch`
--   committed unsequenced events in id order from feed_state.last_seq (gapless), advances the
--   counter and notifies orch_events with the last seq. The lock goes at the end of the caller's
--   transaction, once its commit is visible.
CREATE OR REPLACE FUNCTION orch_feed_sequence(
  batch integer, wait boolean,
  OUT out_numbered bigint, OUT out_last_seq bigint, OUT out_locked boolean, OUT out_busy boolean)
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  out_numbered := 0;
  out_locked := false;
  out_busy := false;
  IF NOT EXISTS (SELECT 1 FROM events WHERE seq IS NULL) THEN
    out_last_seq := coalesce((SELECT f.last_seq FROM feed_state f WHERE f.id = 1), 0);
    RETURN;
  END IF;
  IF wait THEN
    PERFORM pg_advisory_xact_lock(1869767528, 2);
  ELSIF NOT pg_try_advisory_xact_lock(1869767528, 2) THEN
    out_busy := true;
    out_last_seq := coalesce((SELECT f.last_seq FROM feed_state f WHERE f.id = 1), 0);
    RETURN;
  END IF;
  out_locked := true;
  out_last_seq := coalesce((SELECT f.last_seq FROM feed_state f WHERE f.id = 1), 0);
  WITH todo AS (
    SELECT e.id FROM events e WHERE e.seq IS NULL ORDER BY e.id LIMIT batch FOR UPDATE
  ), numbered AS (
    SELECT todo.id, out_last_seq + row_number() OVER (ORDER BY todo.id) AS s FROM todo
  )
  UPDATE events e SET seq = numbered.s FROM numbered WHERE e.id = numbered.id;
  GET DIAGNOSTICS out_numbered = ROW_COUNT;
  IF out_numbered > 0 THEN
    out_last_seq := out_last_seq + out_numbered;
    UPDATE feed_state SET last_seq = out_last_seq WHERE id = 1;
    IF NOT FOUND THEN
      INSERT INTO feed_state (id, last_seq) VALUES (1, out_last_seq);
    END IF;
    PERFORM pg_notify('orch_events', out_last_seq::text);
  END IF;
END
$$;
