// drizzle-kit settings: `deno task hub-db-generate` writes src/hub/migrations/sqlite from src/hub/schema_sqlite.ts.
export default {
  dialect: "sqlite",
  schema: "./src/hub/schema_sqlite.ts",
  out: "./src/hub/migrations/sqlite",
};
