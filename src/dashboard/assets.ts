/**
 * The dashboard's files, inlined at build time by bundle.macro.ts. Only `orch serve` imports this
 * module (dynamically), so `orch --version`, `orch mcp` and `orch hook` never load it.
 */
import { bundleScript, readStyle } from "./bundle.macro.ts" with { type: "macro" };

export interface Asset {
  name: string;
  body: string;
  type: string;
}

const script = bundleScript();
const style = readStyle();

const hashOf = (text: string) => Bun.hash(text).toString(36).slice(0, 10);

/** Names carry a content hash: a new binary means new names, so they may be cached forever. */
export const SCRIPT: Asset = { name: `app.${hashOf(script)}.js`, body: script, type: "text/javascript; charset=utf-8" };
export const STYLE: Asset = { name: `app.${hashOf(style)}.css`, body: style, type: "text/css; charset=utf-8" };
export const ASSETS: ReadonlyMap<string, Asset> = new Map([SCRIPT, STYLE].map((a) => [a.name, a]));

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>orch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${STYLE.name}">
<script type="module" src="/assets/${SCRIPT.name}"></script>
</head>
<body>
<noscript>The orch dashboard needs JavaScript. The same facts: <code>orch watch</code>, <code>orch inbox</code>, or the REST API at <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="app" aria-live="polite"></div>
</body>
</html>
`;
