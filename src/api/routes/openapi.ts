/**
 * GET /openapi.json, generated from the zod schemas that validate the requests (query and path
 * parameters) and from the response shapes the route tests hold every answer to.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { ApiDeps, RouteDoc } from "../context.ts";
import * as shapes from "../shapes.ts";
import { activityDocs } from "./activity.ts";
import { agentDocs } from "./agents.ts";
import { eventDocs } from "./events.ts";
import { healthDocs } from "./health.ts";
import { inboxDocs } from "./inbox.ts";
import { streamDocs } from "./streams.ts";
import { streamActionDocs } from "./stream-actions.ts";
import { budgetDocs } from "./budget.ts";
import { taskDocs } from "./tasks.ts";
import { workProductDocs } from "./work-products.ts";
import { runDocs } from "./run.ts";
import { sessionDocs } from "./session.ts";

const openApiDocs: RouteDoc[] = [
  { path: "/openapi.json", summary: "This document", responses: { 200: { description: "OpenAPI 3.1 document" } } },
];

export const allRouteDocs = (): RouteDoc[] => [...healthDocs, ...streamDocs, ...streamActionDocs, ...budgetDocs, ...taskDocs, ...workProductDocs, ...runDocs, ...activityDocs, ...agentDocs, ...inboxDocs, ...eventDocs, ...sessionDocs, ...openApiDocs];

/** Shapes shown once under components.schemas and referenced by name. */
const named: Record<string, z.ZodType> = {
  Error: shapes.errorShape,
  Health: shapes.healthShape,
  Task: shapes.taskShape,
  Stream: shapes.streamShape,
  StreamList: shapes.streamListShape,
  StreamDetail: shapes.streamDetailShape,
  TaskList: shapes.taskListShape,
  Activity: shapes.activityShape,
  ActivityList: shapes.activityListShape,
  StreamHealth: shapes.streamHealthShape,
  Agent: shapes.agentShape,
  AgentList: shapes.agentListShape,
  InboxEntry: shapes.inboxEntryShape,
  InboxList: shapes.inboxListShape,
  Snapshot: shapes.snapshotShape,
  Change: shapes.changeShape,
  MergeResult: shapes.mergeResultShape,
  MergeConflict: shapes.mergeConflictShape,
  ArchiveResult: shapes.archiveResultShape,
  Budget: shapes.budgetShape,
  StreamBudget: shapes.streamBudgetShape,
  BudgetRaise: shapes.budgetRaiseShape,
  StreamWorktree: shapes.streamWorktreeShape,
  StreamConflicts: shapes.streamConflictsShape,
  StreamLog: shapes.streamLogShape,
  StreamWorkProducts: shapes.streamWorkProductsShape,
  WorkProduct: shapes.workProductShape,
  Run: shapes.runShape,
  Session: shapes.sessionShape,
};

type JsonSchema = Record<string, unknown>;

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Per-node touch-ups: descriptions and formats set with `.meta()` live in zod's global registry,
 * which a custom registry's export does not read; zod's ±2^53 bounds on every integer are noise.
 */
function override({ zodSchema, jsonSchema }: { zodSchema: unknown; jsonSchema: JsonSchema }) {
  const meta = z.globalRegistry.get(zodSchema as z.ZodType) as JsonSchema | undefined;
  if (meta) for (const [k, v] of Object.entries(meta)) if (k !== "id" && jsonSchema[k] === undefined) jsonSchema[k] = v;
  if (jsonSchema.minimum === -SAFE) delete jsonSchema.minimum;
  if (jsonSchema.maximum === SAFE) delete jsonSchema.maximum;
}

function parameters(where: "query" | "path", schema: z.ZodObject | undefined): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const { $schema: _, description, ...js } = z.toJSONSchema(f, { io: "input", unrepresentable: "any", override }) as JsonSchema;
    const optional = f.safeParse(undefined).success;
    return { name, in: where, required: where === "path" || !optional, ...(description ? { description } : {}), schema: js };
  });
}

export function openApiDocument(version: string): JsonSchema {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const uri = (id: string) => `#/components/schemas/${id}`;
  const { schemas } = z.toJSONSchema(registry, { uri, unrepresentable: "any", override }) as { schemas: Record<string, JsonSchema> };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.$id; // a fragment $id is not valid JSON Schema; components are addressed by path
  }
  const idOf = new Map(Object.entries(named).map(([id, s]) => [s, id]));
  const ref = (s: z.ZodType): JsonSchema => {
    const id = idOf.get(s);
    if (!id) throw new Error("openapi: response shapes must be named in `named`");
    return { $ref: uri(id) };
  };

  const paths: Record<string, unknown> = {};
  for (const doc of allRouteDocs()) {
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(doc.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema ? { content: { [r.contentType ?? "application/json"]: { schema: ref(r.schema) } } } : {}),
        ...(r.oneOf ? { content: { [r.contentType ?? "application/json"]: { schema: { oneOf: r.oneOf.map(ref) } } } } : {}),
      };
    }
    const body = doc.body ? (z.toJSONSchema(doc.body, { io: "input", unrepresentable: "any", override }) as JsonSchema) : undefined;
    if (body) delete body.$schema;
    const operation = {
      summary: doc.summary,
      ...(doc.description ? { description: doc.description } : {}),
      parameters: [...parameters("path", doc.pathParams), ...parameters("query", doc.query)],
      ...(body ? { requestBody: { required: true, content: { "application/json": { schema: body } } } } : {}),
      responses,
    };
    paths[doc.path] = { ...(paths[doc.path] as object | undefined), [doc.method ?? "get"]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "orch API",
      version,
      description:
        "Streams, tasks, agent activity, agent sessions and the inbox of one orch database. Every request needs `Authorization: Bearer <ORCH_API_TOKEN>` when the server has a token (required off loopback). Writes (POST) are refused to browsers on other sites (`Origin`, `Sec-Fetch-Site`) and take `application/json` bodies only. A browser (a request with `Origin` or `Sec-Fetch-Site`) also needs the session cookie set by the one-time login link `orch serve` prints (or the token), for reads of /api/* as for writes, and its writes must carry this server's own `Origin`.",
    },
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "ORCH_API_TOKEN (only when the server sets one)" } },
    },
    paths,
  };
}

export function openApiRoutes(deps: ApiDeps): Hono {
  let text: string | undefined; // built on first request: start-up stays cheap
  return new Hono().get("/", (c) => {
    text ??= JSON.stringify(openApiDocument(deps.version));
    return c.body(text, 200, { "Content-Type": "application/json; charset=UTF-8" });
  });
}
