// duckdb_batch.mjs -- the batch benchmark's job in DuckDB, the tool a user would pick instead
//
// usage: node duckdb_batch.mjs EVENTS.jsonl THREADS [sets|views]
//
// Both views of the benchmark pipeline (by customer per day, by country per
// hour; count, exact decimal sum, min, max of amount) from the JSON Lines
// file with read_json_auto, stored as tables, as lambda-batch stores its
// views:
//   sets   one scan, both views at once with GROUP BY GROUPING SETS (the
//          fastest way we found);
//   views  one CREATE TABLE ... GROUP BY per view, as a user writes them
//          (two scans).
// Prints "rows=N events=N seconds=S" (seconds: the queries alone, without
// starting node or DuckDB).
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threads, mode = 'sets'] = process.argv.slice(2);
if (!file || !threads || !['sets', 'views'].includes(mode)) {
    console.error('usage: node duckdb_batch.mjs EVENTS.jsonl THREADS [sets|views]');
    process.exit(2);
}
const src = `read_json_auto('${file.replace(/'/g, "''")}')`;
const metrics = `count(*) AS orders,
           sum(CAST(amount AS DECIMAL(18, 2))) AS revenue,
           min(CAST(amount AS DECIMAL(18, 2))) AS min_amount,
           max(CAST(amount AS DECIMAL(18, 2))) AS max_amount`;
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
await con.run(`SET threads = ${Number(threads)}`);
await con.run(`SET preserve_insertion_order = false`);

const t0 = process.hrtime.bigint();
if (mode === 'sets') {
    await con.run(`
        CREATE TABLE views AS
        SELECT customer, date_trunc('day', ts) AS day,
               country, date_trunc('hour', ts) AS hour, ${metrics}
        FROM ${src}
        GROUP BY GROUPING SETS ((customer, date_trunc('day', ts)),
                                (country, date_trunc('hour', ts)))`);
} else {
    await con.run(`
        CREATE TABLE by_customer AS
        SELECT customer, date_trunc('day', ts) AS day, ${metrics}
        FROM ${src} GROUP BY ALL`);
    await con.run(`
        CREATE TABLE by_country AS
        SELECT country, date_trunc('hour', ts) AS hour, ${metrics}
        FROM ${src} GROUP BY ALL`);
}
const t1 = process.hrtime.bigint();
const r = await con.runAndReadAll(mode === 'sets' ? `
    SELECT count(*)::BIGINT,
           (sum(orders) FILTER (WHERE day IS NOT NULL))::BIGINT FROM views` : `
    SELECT (SELECT count(*) FROM by_customer) + (SELECT count(*) FROM by_country),
           (SELECT sum(orders) FROM by_customer)::BIGINT`);
const [n, e] = r.getRows()[0];
console.log(`rows=${n} events=${e} seconds=${(Number(t1 - t0) / 1e9).toFixed(3)}`);
