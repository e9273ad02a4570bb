/**
 * GET /api/streams/:streamId/work-products (summaries of the work products of the stream's
 * tasks, newest first, with the total) and GET /api/work-products/:id (one, its content included).
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import * as shapes from "../../src/api/shapes.ts";
import { storeWorkProduct } from "../../src/core/index.ts";
import { archiveStream } from "../../src/core/streams.ts";
import { STREAM_WORK_PRODUCTS_MAX } from "../../src/core/work-products.ts";
import { tempStore } from "../helpers.ts";
import { tempRepo } from "../git/repo-helpers.ts";
import { guideData } from "./fixture.ts";

async function setup() {
  const store = await tempStore();
  await guideData(store);
  const app = await createApp(store, { mainBranch: "main", cwd: tempRepo() });
  const get = async (path: string) => {
    const res = await app.request(path);
    return { status: res.status, text: await res.clone().text(), body: (await res.json()) as any };
  };
  return { store, get };
}

describe("GET /api/streams/:streamId/work-products", () => {
  test("the stream's tasks' work products, newest first, without content, with the total; another stream's are not listed", async () => {
    const { store, get } = await setup();
    const design = await storeWorkProduct(store, { taskId: "TASK-010", type: "technical_design", title: "Command palette design", content: "# Design\n..." });
    const impl = await storeWorkProduct(store, { taskId: "TASK-010", type: "implementation", title: "Commands wired", content: "diff --git a b" });
    await storeWorkProduct(store, { taskId: "TASK-002", type: "implementation", title: "Theme provider", content: "Stream-A's" });

    const r = await get("/api/streams/Stream-B/work-products");
    expect(r.status).toBe(200);
    const list = shapes.streamWorkProductsShape.parse(r.body);
    expect(list).toEqual({
      streamId: "Stream-B",
      workProducts: [
        { id: impl.id, taskId: "TASK-010", type: "implementation", title: "Commands wired", createdAt: impl.createdAt },
        { id: design.id, taskId: "TASK-010", type: "technical_design", title: "Command palette design", createdAt: design.createdAt },
      ],
      total: 2,
    });
    expect(r.text).not.toContain("diff --git");
    expect(shapes.streamWorkProductsShape.parse((await get("/api/streams/Stream-A/work-products")).body).workProducts.map((w) => w.title)).toEqual(["Theme provider"]);
    expect((await get("/api/streams/Stream-C/work-products")).status).toBe(404);
  });

  test("limit: default 50, at most 200, the total still counts them all; bad limits → 400; unknown stream → 404; archived streams answer", async () => {
    const { store, get } = await setup();
    for (let i = 0; i < 60; i++) await storeWorkProduct(store, { taskId: "TASK-010", type: "other", title: `note ${i}`, content: String(i) });
    const r = await get("/api/streams/Stream-B/work-products");
    expect(r.body.workProducts.length).toBe(50);
    expect(r.body.total).toBe(60);
    expect(r.body.workProducts[0].title).toBe("note 59");
    const two = await get("/api/streams/Stream-B/work-products?limit=2");
    expect(two.body.workProducts.map((w: { title: string }) => w.title)).toEqual(["note 59", "note 58"]);
    expect((await get(`/api/streams/Stream-B/work-products?limit=${STREAM_WORK_PRODUCTS_MAX}`)).body.workProducts.length).toBe(60);
    for (const bad of ["0", "201", "x", "-3"]) {
      const b = await get(`/api/streams/Stream-B/work-products?limit=${bad}`);
      expect(b.status).toBe(400);
      expect(b.body.error).toContain("limit must be an integer from 1 to 200");
    }
    const missing = await get("/api/streams/Stream-Z/work-products");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Stream not found", streamId: "Stream-Z" });
    expect((await get("/api/streams/bad%20id/work-products")).status).toBe(400);
    await archiveStream(store, "Stream-B");
    expect((await get("/api/streams/Stream-B/work-products?limit=1")).body.total).toBe(60);
  });
});

describe("GET /api/work-products/:id", () => {
  test("the full row, content included, agents' control characters escaped inertly; unknown → 404 JSON; a bad id → 400", async () => {
    const { store, get } = await setup();
    const content = `<img src=x onerror="alert(1)">\n\u009b31m red \u2028 line`;
    const wp = await storeWorkProduct(store, { taskId: "TASK-010", type: "test_plan", title: "<b>Plan</b>", content, metadata: { pr: 12 } });
    const r = await get(`/api/work-products/${wp.id}`);
    expect(r.status).toBe(200);
    expect(shapes.workProductShape.parse(r.body)).toEqual({ id: wp.id, taskId: "TASK-010", type: "test_plan", title: "<b>Plan</b>", content, metadata: { pr: 12 }, createdAt: wp.createdAt });
    expect(r.text).toContain("\\u009b");
    expect(r.text).toContain("\\u2028");

    const missing = await get("/api/work-products/WP-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: "Work product not found: WP-000000000000" });
    expect((await get("/api/work-products/..%2Fetc")).status).toBe(400);
    expect((await get(`/api/work-products/${"W".repeat(200)}`)).status).toBe(400);
  });
});

test("both are in /openapi.json with their shapes", async () => {
  const { get } = await setup();
  const doc = (await get("/openapi.json")).body;
  expect(doc.paths["/api/streams/{streamId}/work-products"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/StreamWorkProducts" });
  expect(doc.paths["/api/work-products/{id}"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/WorkProduct" });
  expect(doc.paths["/api/work-products/{id}"].get.responses["404"]).toBeDefined();
  expect(doc.components.schemas.WorkProduct.additionalProperties).toBe(false);
});
