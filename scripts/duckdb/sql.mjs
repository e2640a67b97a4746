// sql.mjs runs SQL statements with DuckDB and prints the last one's rows as
// NDJSON on stdout (BIGINTs as numbers when they fit, else strings).
// Used by spot's interop tests and benchmarks:
//
//	node scripts/duckdb/sql.mjs "SELECT count(*) AS n FROM 'flows.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';

const stmts = process.argv.slice(2);
if (stmts.length === 0) {
  console.error('usage: node sql.mjs SQL...');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
let reader;
for (const sql of stmts) {
  reader = await conn.runAndReadAll(sql);
}
const out = [];
for (const row of reader.getRowObjectsJson()) {
  out.push(JSON.stringify(row));
}
if (out.length > 0) process.stdout.write(out.join('\n') + '\n');
