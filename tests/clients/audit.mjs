// The GraphQL-over-HTTP server audit of the `graphql-http` package (serverAudits)
// against a running OneDoor. usage: node audit.mjs GRAPHQL_URL
// Prints one JSON line: {counts: {MUST: {ok, warn, error, notice}, SHOULD: …, MAY: …}, failed: [...]}.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
const results = await auditServer({ url, fetchFn: fetch });
const counts = {};
const failed = [];
for (const r of results) {
  const level = r.name.split(' ')[0];
  counts[level] ??= { ok: 0, warn: 0, error: 0, notice: 0 };
  counts[level][r.status]++;
  if (r.status === 'ok') continue;
  let response = '';
  try {
    const res = r.response;
    response = `HTTP ${res.status} ${res.headers.get('content-type')} ${(await res.text()).slice(0, 300)}`;
  } catch (e) { response = `(no response: ${e.message})`; }
  failed.push({ level, status: r.status, id: r.id, name: r.name, reason: r.reason, response });
}
console.log(JSON.stringify({ counts, failed }));
