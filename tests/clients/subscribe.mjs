// graphql-ws (graphql-transport-ws) client following one matter with
// `subscription matterUpdates`, as a browser app does; between the first message
// and the next, the matter's status is changed at its centre.
// usage: node subscribe.mjs   env: WS_URL, MATTER_ID, TOKEN, AUTH (params | header),
//   CHANGE_URL, CHANGE_BODY (the centre's /_sandbox/matters/{ref}/status and its JSON;
//   without CHANGE_URL the first message alone is awaited)
// Prints one JSON line: {events: [...], error, closed, changed}.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const { WS_URL, MATTER_ID, TOKEN, AUTH, CHANGE_URL, CHANGE_BODY } = process.env;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (pred, ms) => { const end = Date.now() + ms; while (Date.now() < end && !pred()) await sleep(100); return pred(); };

// A browser cannot set headers on a WebSocket: `params` sends the token the way
// browser apps must (connectionParams of connection_init); `header` on the upgrade.
const headers = AUTH === 'header' ? { authorization: `Bearer ${TOKEN}` } : {};
class HeaderSocket extends WebSocket { constructor(url, protocols) { super(url, protocols, { headers }); } }
const rec = { events: [], error: null, closed: null, done: false, changed: null };
const client = createClient({
  url: WS_URL, lazy: true, retryAttempts: 0, webSocketImpl: HeaderSocket,
  connectionParams: AUTH === 'params' ? { authorization: `Bearer ${TOKEN}` } : undefined,
  on: { closed: (e) => { rec.closed = e ? { code: e.code, reason: e.reason } : null; } },
});
client.subscribe(
  { query: 'subscription U($id: ID!) { matterUpdates(id: $id) { id centre reference centreStatus status events { action } } }',
    variables: { id: MATTER_ID } },
  {
    next: (v) => rec.events.push(v),
    error: (e) => { rec.error = Array.isArray(e) ? e : (e?.message ?? (e?.code ? `close ${e.code} ${e.reason}` : String(e))); rec.done = true; },
    complete: () => { rec.done = true; },
  });
if (await until(() => rec.events.length >= 1 || rec.done, 15000) && rec.events.length >= 1 && !rec.done && CHANGE_URL) {
  const res = await fetch(CHANGE_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CHANGE_BODY });
  rec.changed = res.status;
  await until(() => rec.events.length >= 2 || rec.done, 30000);
}
await client.dispose();
delete rec.done;
console.log(JSON.stringify(rec));
process.exit(0);
