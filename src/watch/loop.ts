/**
 * The monitor's loop: choose a source (API, else local DB, else "down"), redraw on every change
 * signal (SSE or data_version), poll every --refresh seconds as a fallback, and keep retrying a
 * lost API. Redraws in place on the alternate screen; restores the terminal on exit.
 */
import type { Store } from "../db/client.ts";
import { renderFrame, type MonitorSnapshot, type SourceState } from "./render.ts";
import { identifyPeer } from "../net/peer.ts";
import { apiSource, chooseSource, dbSource, servesDashboard, type SnapshotSource } from "./source.ts";

export interface MonitorOptions {
  apiUrl: string;
  /** --api was given: never fall back to the local DB. */
  explicitApi: boolean;
  token?: string;
  openLocalStore: () => Promise<Store | null>;
  refreshSeconds: number;
  color: boolean;
  once: boolean;
  /** stdout is a terminal: alternate screen, cursor control. */
  tty: boolean;
  stateFile?: string;
  width: () => number;
  write: (s: string) => void;
  onResize?: (redraw: () => void) => void;
}

const EMPTY: MonitorSnapshot = { streams: [], activities: [], blockedTasks: [], failedStreams: [] };
const RETRY_MS = 1000;
const DEBOUNCE_MS = 25;

export async function runMonitor(o: MonitorOptions): Promise<number> {
  let state: SourceState = { kind: "down", url: o.apiUrl };
  let source: SnapshotSource | null = null;
  let stopWatch: (() => void) | null = null;
  let localStore: Store | null = null;
  let lastFrame = "";

  let dashboard = false;
  async function connect(): Promise<void> {
    stopWatch?.();
    stopWatch = null;
    const peer = await identifyPeer(o.apiUrl, o.token);
    // Only an orch on the address, without --api, is compared with the local database.
    const localId = peer.kind === "orch" && !o.explicitApi && (localStore ??= await o.openLocalStore()) ? await localStore.identity() : null;
    const choice = chooseSource(peer, {
      explicitApi: o.explicitApi,
      hasToken: o.token !== undefined,
      localDbId: () => localId,
      url: o.apiUrl,
    });
    dashboard = false;
    if (choice.kind === "api") {
      state = { kind: "api", url: o.apiUrl };
      source = apiSource(o.apiUrl, { token: o.token, stateFile: o.stateFile });
      dashboard = await servesDashboard(o.apiUrl);
    } else if (choice.kind === "db" && (localStore ??= await o.openLocalStore())) {
      state = { kind: "db", path: localStore.path, ...(choice.reason ? { reason: choice.reason } : {}) };
      source = dbSource(localStore, { stateFile: o.stateFile });
    } else {
      state = { kind: "down", url: o.apiUrl, ...(choice.kind === "down" && choice.reason ? { reason: choice.reason } : {}) };
      source = null;
    }
  }

  async function frame(): Promise<string> {
    let snap = EMPTY;
    if (source) {
      try {
        snap = await source.snapshot();
      } catch {
        state = { kind: "down", url: o.apiUrl };
        source = null;
      }
    }
    const text = renderFrame(snap, { width: o.width(), color: o.color, refreshSeconds: o.refreshSeconds, source: state, now: Date.now() });
    // The same facts in a browser (src/dashboard), when the API this monitor follows serves it.
    return state.kind === "api" && dashboard ? `${text}Dashboard: ${state.url.replace(/\/+$/, "")}/\n` : text;
  }

  await connect();
  if (o.once) {
    o.write(await frame());
    return state.kind === "down" ? 1 : 0;
  }

  // Set on exit: a frame still being read when Ctrl+C came must not land on the restored screen.
  let ended = false;
  const paint = (text: string) => {
    if (ended || text === lastFrame) return;
    lastFrame = text;
    if (o.tty) o.write(`\x1b[H${text.replace(/\n/g, "\x1b[K\n")}\x1b[J`);
    else o.write(`${text}\n`);
  };

  let drawing = false;
  let again = false;
  const draw = async () => {
    if (drawing) {
      again = true;
      return;
    }
    drawing = true;
    try {
      do {
        again = false;
        const wasDown = state.kind === "down";
        paint(await frame());
        if (!wasDown && state.kind === "down") scheduleRetry();
      } while (again);
    } finally {
      drawing = false;
    }
  };

  let debounce: ReturnType<typeof setTimeout> | null = null;
  const changed = () => {
    if (debounce) return;
    debounce = setTimeout(() => {
      debounce = null;
      void draw();
    }, DEBOUNCE_MS);
  };

  const startWatching = () => {
    if (!source) return;
    stopWatch = source.watch(changed, () => {
      // The event stream broke: the API may be gone. Re-check now.
      void reconnect();
    });
  };

  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  const scheduleRetry = () => {
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void reconnect();
    }, RETRY_MS);
  };

  const reconnect = async () => {
    await connect();
    if (state.kind === "down") scheduleRetry();
    else startWatching();
    await draw();
  };

  if (o.tty) o.write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
  const restore = () => {
    if (o.tty) o.write("\x1b[?25h\x1b[?1049l");
  };

  return await new Promise<number>((resolve) => {
    let finished = false;
    const finish = async () => {
      if (finished) return;
      finished = true;
      ended = true;
      stopWatch?.();
      if (debounce) clearTimeout(debounce);
      clearInterval(poll);
      if (retryTimer) clearTimeout(retryTimer);
      restore();
      await localStore?.close();
      resolve(0);
    };
    // `on`, not `once`: a second Ctrl+C while restoring must not kill the process mid-write.
    process.on("SIGINT", finish);
    process.on("SIGTERM", finish);
    o.onResize?.(() => {
      lastFrame = "";
      void draw();
    });
    // Fallback polling; in local-DB mode also looks for an API that came up.
    const poll = setInterval(() => {
      if (state.kind === "db" && !o.explicitApi && !state.reason) {
        void identifyPeer(o.apiUrl, o.token).then(async (peer) => (peer.kind === "orch" ? await reconnect() : await draw()));
      } else if (state.kind !== "down") void draw();
    }, o.refreshSeconds * 1000);
    if (state.kind === "down") scheduleRetry();
    else startWatching();
    void draw();
  });
}
