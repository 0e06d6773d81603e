// drizzle-kit settings: `deno task db-generate` writes src/logs/migrations from src/logs/schema.ts.
export default {
  dialect: "sqlite",
  schema: "./src/logs/schema.ts",
  out: "./src/logs/migrations",
};
