// duckdb_batch.mjs -- the batch benchmark's job in DuckDB: the tool a user would pick instead
//
// usage: node duckdb_batch.mjs EVENTS.jsonl THREADS
//
// One scan of the JSON Lines file with read_json_auto, both views of the
// benchmark pipeline at once (GROUPING SETS: by customer per day, by country
// per hour; count, exact decimal sum, min, max of amount), stored as a table,
// as lambda-batch stores its views. Prints "rows=N events=N seconds=S"
// (seconds: the query alone, without starting node or DuckDB).
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threads] = process.argv.slice(2);
if (!file || !threads) {
    console.error('usage: node duckdb_batch.mjs EVENTS.jsonl THREADS');
    process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET threads = ${Number(threads)}`);
await con.run(`SET preserve_insertion_order = false`);

const t0 = process.hrtime.bigint();
await con.run(`
    CREATE TABLE views AS
    SELECT customer, date_trunc('day', ts) AS day,
           country, date_trunc('hour', ts) AS hour,
           count(*) AS orders,
           sum(CAST(amount AS DECIMAL(18, 2))) AS revenue,
           min(CAST(amount AS DECIMAL(18, 2))) AS min_amount,
           max(CAST(amount AS DECIMAL(18, 2))) AS max_amount
    FROM read_json_auto('${file.replace(/'/g, "''")}')
    GROUP BY GROUPING SETS ((customer, date_trunc('day', ts)),
                            (country, date_trunc('hour', ts)))`);
const t1 = process.hrtime.bigint();
const r = await con.runAndReadAll(`
    SELECT count(*)::BIGINT AS n,
           (sum(orders) FILTER (WHERE day IS NOT NULL))::BIGINT AS e
    FROM views`);
const [n, e] = r.getRows()[0];
console.log(`rows=${n} events=${e} seconds=${(Number(t1 - t0) / 1e9).toFixed(3)}`);
