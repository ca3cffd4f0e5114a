// Apollo Client 4 with its persisted-query link (automatic persisted queries:
// the hash alone first; on PERSISTED_QUERY_NOT_FOUND the document with it) against OneDoor.
// usage: node apq.mjs GRAPHQL_URL   env: TOKEN, CITIZEN
// Prints one JSON line: {runs: {name: {data, error, wire: [{method, hashOnly, status, body}]}}}.
import { ApolloClient, InMemoryCache, HttpLink, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { createHash } from 'node:crypto';

const URL_ = process.argv[2];
const { TOKEN, CITIZEN } = process.env;
const sha256 = (s) => createHash('sha256').update(s).digest('hex');

let wire = [];
async function recordingFetch(url, init) {
  const res = await fetch(url, init);
  const text = await res.clone().text();
  const json = (v) => { try { return JSON.parse(v); } catch { return v; } };
  const body = init?.body ? JSON.parse(init.body)
    : Object.fromEntries([...new URL(url).searchParams].map(([k, v]) => [k, k === 'query' ? v : json(v)]));
  wire.push({ method: init?.method ?? 'GET', hashOnly: !body.query, status: res.status, body: text.slice(0, 300) });
  return res;
}
const client = (get = false) => new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({ sha256, useGETForHashedQueries: get }).concat(
    new HttpLink({ uri: URL_, fetch: recordingFetch, headers: { authorization: `Bearer ${TOKEN}` } })),
});
const runs = {};
async function run(name, c, query, variables) {
  wire = [];
  let data = null, error = null;
  try {
    const r = await c.query({ query, variables, fetchPolicy: 'network-only' });
    data = r.data ?? null; error = r.error ? String(r.error.message ?? r.error) : null;
  } catch (e) { error = String(e.message ?? e); }
  runs[name] = { data, error, wire };
}
const stamp = Date.now();
const fresh = gql(`query Fresh${stamp} { centres { centre status } }`);
await run('first', client(), fresh);
await run('again', client(), fresh);
const citizen = gql`query CitizenName($id: String!) { citizen(idNumber: $id) { name matters(first: 3) { totalCount } } }`;
await run('variablesFirst', client(), citizen, { id: CITIZEN });
await run('variablesAgain', client(), citizen, { id: CITIZEN });
const viaGet = gql(`query FreshGet${stamp} { centres { centre } }`);
await run('getFirst', client(true), viaGet);
await run('getAgain', client(true), viaGet);
console.log(JSON.stringify({ runs }));
