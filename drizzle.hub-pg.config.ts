// drizzle-kit settings: `deno task hub-db-generate` writes src/hub/migrations/pg from src/hub/schema_pg.ts.
export default {
  dialect: "postgresql",
  schema: "./src/hub/schema_pg.ts",
  out: "./src/hub/migrations/pg",
};
