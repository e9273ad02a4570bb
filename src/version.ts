declare const ORCH_VERSION: string | undefined;

/** Injected by scripts/build.ts (`define`); running from source says "dev". */
export const VERSION: string = typeof ORCH_VERSION === "string" ? ORCH_VERSION : "0.0.0-dev";
