// OneDoor as a subgraph behind a real federation gateway, end to end:
// OneDoor, the GOVERNANCE centre's subgraph and a small third-party `notes`
// subgraph (@apollo/subgraph) whose notes point at OneDoor's Citizen and
// GridMatter entities; each subgraph's SDL fetched from `_service` (as Rover does), composed with
// @apollo/composition, served by Hive Gateway (@graphql-hive/gateway-runtime,
// the runtime of `hive-gateway supergraph`) forwarding the caller's
// Authorization header, then queried. (Apollo Gateway, the Node library,
// refuses any supergraph that links @requiresScopes: `for: SECURITY` features
// it cannot enforce; Apollo Router and Hive Gateway serve it.)
// usage: node federation.mjs   env: ONEDOOR_URL, GOVERNANCE_URL (GraphQL endpoints),
//   TOKENS (JSON: name → bearer token), CITIZEN (a sample resident ID)
// Prints one JSON line: {supergraph: {...}, answers: {name: {status, body}}}.
import { createServer } from 'node:http';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { createHandler } from 'graphql-http/lib/use/http';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

const { ONEDOOR_URL, GOVERNANCE_URL, CITIZEN } = process.env;
const TOKENS = JSON.parse(process.env.TOKENS);

async function post(url, query, variables = {}, token = undefined) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  try { return { status: res.status, body: JSON.parse(text) }; } catch { return { status: res.status, body: text }; }
}

async function sdlOf(url, token) {
  const { status, body } = await post(url, '{ _service { sdl } }', {}, token);
  if (!body?.data?._service?.sdl) throw new Error(`no _service.sdl from ${url}: HTTP ${status} ${JSON.stringify(body).slice(0, 500)}`);
  return body.data._service.sdl;
}

const listen = async (server) => {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}/graphql`;
};

// The notes subgraph: a note is about a citizen and may concern a grid matter,
// both resolved by OneDoor's _entities through the gateway.
const mine = await post(ONEDOOR_URL, 'query($id: String!) { citizen(idNumber: $id) { matters(first: 20) { nodes { id centre } } } }',
  { id: CITIZEN }, TOKENS.caseworker);
const gridId = mine.body?.data?.citizen?.matters?.nodes?.find((n) => n.centre === 'GOVERNANCE')?.id ?? 'none';
const notesSchema = buildSubgraphSchema({
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    type Citizen @key(fields: "idNumber", resolvable: false) { idNumber: String! }
    type GridMatter @key(fields: "id", resolvable: false) { id: ID! }
    type Note @key(fields: "noteId") { noteId: ID! text: String! about: Citizen! regarding: GridMatter }
    type Query { notes: [Note!]! }`),
  resolvers: { Query: { notes: () => [
    { noteId: 'n1', text: 'follow up', about: { idNumber: CITIZEN }, regarding: { id: gridId } }] } },
});
const notesServer = createServer(createHandler({ schema: notesSchema }));
const NOTES_URL = await listen(notesServer);

const services = [
  { name: 'onedoor', url: ONEDOOR_URL, typeDefs: parse(await sdlOf(ONEDOOR_URL, TOKENS.caseworker)) },
  { name: 'governance', url: GOVERNANCE_URL, typeDefs: parse(await sdlOf(GOVERNANCE_URL)) },
  { name: 'notes', url: NOTES_URL, typeDefs: parse(await sdlOf(NOTES_URL)) },
];
const composed = composeServices(services);
if (composed.errors?.length) {
  console.log(JSON.stringify({ compositionErrors: composed.errors.map((e) => `${e.extensions?.code}: ${e.message}`) }));
  notesServer.close();
  process.exit(0);
}
const supergraphSdl = composed.supergraphSdl;

const gateway = createGatewayRuntime({
  supergraph: supergraphSdl,
  logging: false,
  maskedErrors: false,
  // subscriptions to OneDoor over its graphql-transport-ws endpoint, the caller's
  // token passed on in connectionParams (a WebSocket carries no per-request headers)
  transportEntries: {
    onedoor: {
      options: {
        subscriptions: {
          kind: 'ws',
          location: ONEDOOR_URL,
          options: { connectionParams: { authorization: '{context.headers.authorization}' } },
        },
      },
    },
  },
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
});
// The same supergraph behind a gateway that enforces its @requiresScopes itself
// (Hive's generic-auth, protect-granular), scopes read from the token's `scope`
// claim — unverified here: OneDoor verifies every token it is sent anyway.
const claimsOf = (header) => {
  const token = header?.replace(/^Bearer /i, '');
  try { return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()); } catch { return null; }
};
const enforcing = createGatewayRuntime({
  supergraph: supergraphSdl,
  logging: false,
  maskedErrors: false,
  propagateHeaders: {
    fromClientToSubgraphs({ request }) {
      const authorization = request.headers.get('authorization');
      return authorization ? { authorization } : {};
    },
  },
  genericAuth: {
    mode: 'protect-granular',
    rejectUnauthenticated: false,
    resolveUserFn: ({ request }) => claimsOf(request.headers.get('authorization')),
  },
});
const servers = [createServer(gateway), createServer(enforcing), notesServer];
const url = await listen(servers[0]);
const enforcingUrl = await listen(servers[1]);

// A subscription through the gateway as a browser makes one: Server-Sent Events
// (POST, Accept: text/event-stream); the first message, then stop.
async function subscribe(gatewayUrl, id, token) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 20000);
  const events = [];
  try {
    const res = await fetch(gatewayUrl, {
      method: 'POST', signal: abort.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'subscription U($id: ID!) { matterUpdates(id: $id) { __typename id centre reference } }', variables: { id } }),
    });
    let buffer = '';
    for await (const chunk of res.body) {
      buffer += Buffer.from(chunk).toString();
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trim()).join('');
        if (data) events.push(JSON.parse(data));
      }
      if (events.length) break;
    }
    return { status: res.status, contentType: res.headers.get('content-type'), events };
  } catch (e) {
    return { error: String(e.message ?? e), events };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

const answers = {};
const ask = async (name, query, variables, token) => { answers[name] = await post(url, query, variables, token); return answers[name]; };
try {
  const DASHBOARD = `query Dashboard($id: String!) { citizen(idNumber: $id) { idNumber name
    matters(first: 20) { totalCount nodes { __typename id centre reference status
      ... on GridMatter { gridCode eventType } } } } }`;
  const dashboard = await ask('dashboard', DASHBOARD, { id: CITIZEN }, TOKENS.caseworker);
  const grid = dashboard.body?.data?.citizen?.matters?.nodes?.find((n) => n.centre === 'GOVERNANCE');
  await ask('gridMatter', 'query M($id: ID!) { matter(id: $id) { __typename id centre reference ... on GridMatter { gridCode } } }',
    { id: grid?.id ?? 'none' }, TOKENS.caseworker);
  await ask('node', 'query N($id: ID!) { node(id: $id) { __typename id } }', { id: grid?.id ?? 'none' }, TOKENS.caseworker);
  await ask('omitted', DASHBOARD, { id: CITIZEN }, TOKENS.noLitigation);
  answers.omittedDirect = await post(ONEDOOR_URL, DASHBOARD, { id: CITIZEN }, TOKENS.noLitigation);
  const court = dashboard.body?.data?.citizen?.matters?.nodes?.find((n) => n.centre === 'LITIGATION');
  await ask('omittedMatter', 'query M($id: ID!) { matter(id: $id) { id } }', { id: court?.id ?? 'none' }, TOKENS.noLitigation);
  await ask('fieldScope', 'query T($id: String!) { citizen(idNumber: $id) { trace { matters { reference } } } }',
    { id: CITIZEN }, TOKENS.caseworker);
  await ask('anonymous', DASHBOARD, { id: CITIZEN });
  await ask('badInput', '{ citizen(idNumber: "123") { name } }', {}, TOKENS.caseworker);
  await ask('centres', '{ centres { centre status } }', {}, TOKENS.caseworker);
  await ask('both', `query Both($id: String!) { citizen(idNumber: $id) { name }
    gridEvents(idNumbers: [$id], limit: 2) { totalCount items { eventNo } } }`, { id: CITIZEN }, TOKENS.caseworker);
  const NOTES = '{ notes { text about { idNumber name matters(first: 5) { totalCount } } regarding { __typename id centre reference } } }';
  await ask('notes', NOTES, {}, TOKENS.caseworker);
  await ask('notesMasked', NOTES, {}, TOKENS.portal);
  await ask('notesNoGovernance', NOTES, {}, TOKENS.noGovernance);
  answers.subscription = await subscribe(url, gridId, TOKENS.caseworker);
  answers.enforcedDashboard = await post(enforcingUrl, DASHBOARD, { id: CITIZEN }, TOKENS.noLitigation);
  answers.enforcedAudit = await post(enforcingUrl, 'query A($id: String!) { auditTrail(citizenId: $id) { __typename } }',
    { id: CITIZEN }, TOKENS.caseworker);
  answers.enforcedAnonymous = await post(enforcingUrl, DASHBOARD, { id: CITIZEN });
} finally {
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  await gateway.dispose();
  await enforcing.dispose();
}
console.log(JSON.stringify({ supergraph: supergraphSdl, hints: (composed.hints ?? []).map((h) => h.definition.code), answers }));
