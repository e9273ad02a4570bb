import { defineConfig } from "drizzle-kit";

/** The PostgreSQL twin of drizzle.config.ts: the same tables (src/db/tables.ts) through the PostgreSQL kit. */
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema-pg.ts",
  out: "./src/db/migrations-pg",
});
