/**
 * GET /api/events: Server-Sent Events. On connect a `snapshot` (streams, activities, overall),
 * then one event per change-log row (`task`, `stream`, `activity`, `prd`, `initiative`,
 * `work_product`, and `agent`, `inbox`, `budget` beside the guide's) as any process commits, each
 * with its change-log id: the event name is the row's kind. A client reconnecting with
 * `Last-Event-ID` (or `?lastEventId=`) gets every event after that id instead of a snapshot.
 * A comment heartbeat keeps idle connections (and the proxies between) open.
 *
 * Written as a plain ReadableStream rather than Hono's streamSSE: writes are synchronous
 * enqueues, so events leave in id order, and the stream lives until the client goes away.
 */
import { Hono } from "hono";
import { z } from "zod";
import { listActivity } from "../../core/activity.ts";
import { eventsSince, lastEventId, replayable, type ChangeEvent } from "../../core/events.ts";
import { listStreams, type StreamView } from "../../core/streams.ts";
import { overallFromStreams } from "../../core/summary.ts";
import { apiStream, type ApiDeps, type RouteDoc } from "../context.ts";
import { withUsage } from "../../core/agent-sessions.ts";
import { parseQuery, safeJsonText } from "../http.ts";
import { changeShape, errorShape, snapshotShape } from "../shapes.ts";

export const eventsQuery = z.object({
  lastEventId: z
    .string()
    .regex(/^[0-9]+$/, { error: "must be a non-negative integer" })
    .meta({ description: "resume after this event id (as the Last-Event-ID header does)" })
    .optional(),
});

export const eventDocs: RouteDoc[] = [
  {
    path: "/api/events",
    summary: "Live changes as Server-Sent Events",
    description:
      "`event: snapshot` (data: Snapshot) on connect, then `event: task|stream|activity|prd|initiative|work_product` (the guide's) or `agent|inbox|budget` with `id:` the change-log id and data: Change. `agent`: data.data is an Agent without `stale` (a session's status, tool or question moved); `inbox`: data.data is an InboxEntry (op `create` when asked, `update` when answered or expired); `budget`: a stream's budget state. Send `Last-Event-ID` to resume without a snapshot. `: ping` comments every 15 s.",
    query: eventsQuery,
    responses: {
      200: { description: "an event stream (data of `snapshot` events: Snapshot; of the others: Change)", oneOf: [snapshotShape, changeShape], contentType: "text/event-stream" },
      400: { description: "invalid parameter", schema: errorShape },
    },
  },
];

/** Past this many missed events a snapshot is cheaper than a replay. */
const MAX_REPLAY = 10_000;
/** A client that stops reading is cut off (it reconnects with Last-Event-ID) rather than buffered forever. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

const SSE_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  "Cache-Control": "no-cache, no-transform",
  "X-Accel-Buffering": "no",
};

/** One event; its data is agents' words too (task notes, questions): C1 controls and the like go out escaped. */
export function sseFrame(event: string, data: unknown, id?: number): string {
  return `${id !== undefined ? `id: ${id}\n` : ""}event: ${event}\ndata: ${safeJsonText(data)}\n\n`;
}

export function eventRoutes(deps: ApiDeps): Hono {
  const { store, feed } = deps;
  // Every client gets the same batch objects from the feed: serialise and encode each event once.
  const encoder = new TextEncoder();
  const frames = new WeakMap<ChangeEvent, Uint8Array>();
  const change = (e: ChangeEvent) => {
    let frame = frames.get(e);
    if (frame === undefined) {
      const data = e.kind === "stream" ? apiStream(e.payload as StreamView, deps.mainBranch) : e.payload;
      frame = encoder.encode(sseFrame(e.kind, { op: e.op, entityId: e.entityId, createdAt: e.createdAt, data }, e.id));
      frames.set(e, frame);
    }
    return frame;
  };

  return new Hono().get("/", (c) => {
    const q = parseQuery(c, eventsQuery);
    // HEAD: the headers alone; opening a stream nobody reads would leak its subscription.
    if (c.req.raw.method === "HEAD") return new Response(null, { headers: SSE_HEADERS });
    const header = c.req.header("last-event-id")?.trim();
    const resumeText = header && /^[0-9]+$/.test(header) ? header : q.lastEventId;
    const resume = resumeText !== undefined ? Number(resumeText) : undefined;
    // Bun closes idle connections after 10 s; an event stream is idle by nature.
    (c.env as { timeout?: (req: Request, seconds: number) => void } | undefined)?.timeout?.(c.req.raw, 0);
    feed.start();

    let close = () => {};
    const body = new ReadableStream<Uint8Array>(
      {
        async start(controller) {
          let closed = false;
          let sent = 0;
          let unsubscribe = () => {};
          let heartbeat: ReturnType<typeof setInterval> | undefined;
          close = () => {
            if (closed) return;
            closed = true;
            unsubscribe();
            clearInterval(heartbeat);
            try {
              controller.close();
            } catch {
              // already closed by the other side
            }
          };
          const write = (chunk: string | Uint8Array) => {
            if (closed) return;
            try {
              controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
            } catch {
              return close();
            }
            if ((controller.desiredSize ?? 0) < -MAX_BUFFERED_BYTES) close();
          };

          // Subscribed first, delivery held until the snapshot or replay is written: the reads
          // below await the database, and an event the feed delivers meanwhile must not be lost.
          // `sent` drops the ones the snapshot or replay already covered.
          const held: ChangeEvent[] = [];
          let live = false;
          const deliver = (batch: readonly ChangeEvent[]) => {
            for (const e of batch) {
              if (e.id <= sent) continue;
              sent = e.id;
              write(change(e));
            }
          };
          unsubscribe = feed.subscribe((batch) => (live ? deliver(batch) : void held.push(...batch)));
          const latest = await lastEventId(store);
          write("retry: 2000\n\n");
          // Replay only a gapless stretch: events compacted away would be missed silently.
          if (resume !== undefined && resume <= latest && latest - resume <= MAX_REPLAY && (await replayable(store, resume, latest))) {
            sent = resume;
            for (;;) {
              const batch = await eventsSince(store, sent, 500);
              deliver(batch);
              if (batch.length < 500 || closed) break;
            }
          } else {
            const streams = await withUsage(store, (await listStreams(store)).map((s) => apiStream(s, deps.mainBranch)));
            const { activities } = await listActivity(store, { active: false });
            write(sseFrame("snapshot", { streams, totalStreams: streams.length, activities, overall: overallFromStreams(streams) }, latest));
            sent = latest;
          }
          if (closed) return; // the replay overflowed the buffer: the client reconnects from where it got to
          live = true;
          deliver(held.splice(0));
          heartbeat = setInterval(() => write(": ping\n\n"), deps.heartbeatMs);
          // An open client must not keep a process alive that wants to end (orch mcp's shared API).
          (heartbeat as { unref?: () => void }).unref?.();
        },
        cancel() {
          close();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
    );
    c.req.raw.signal?.addEventListener("abort", () => close());
    return new Response(body, { headers: SSE_HEADERS });
  });
}
