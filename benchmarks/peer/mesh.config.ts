// Hive Gateway peer over the OneDoor sandbox centres (IdP base+100, MEDIATION +101, LEGAL_SERVICES +102,
// PETITIONS +103, LITIGATION +104, GOVERNANCE +105: benchmarks/processes.py's layout). Run by
// benchmarks/peer/__init__.py: SANDBOX_BASE=<base> PEER_SPECS=<tmp>/specs npx mesh-compose -o <tmp>/supergraph.graphql
import { writeFileSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createPrefixTransform, defineConfig, loadGraphQLHTTPSubgraph } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const BASE = Number(process.env.SANDBOX_BASE || 21000);
const url = (off: number) => `http://127.0.0.1:${BASE + off}`;
const post = (u: string, body: string, type: string) =>
  fetch(u, { method: 'POST', headers: { 'content-type': type }, body }).then(r => r.json());

// LEGAL_SERVICES: OAuth2 client credentials at the sandbox IdP. The token (valid 1 h) is baked into the
// supergraph at compose time: re-compose within the hour (no refresh in the peer).
const tok = await post(`${url(100)}/oauth/token`,
  'grant_type=client_credentials&client_id=onedoor-legal&client_secret=legal-demo-secret&scope=legal.read',
  'application/x-www-form-urlencoded');

// ---- OpenAPI fix-ups (what omnigraph 0.112 needs to serve the centres' real data) ----
// 1. OpenAPI 3.1 `type: [T, "null"]` on a required property becomes a NON-NULL GraphQL field (the loader drops
//    "null" without marking the field nullable), so every null in the data errors: rewrite to 3.0 `nullable`.
// 2. LITIGATION times are epoch milliseconds declared `integer`: GraphQL Int is 32-bit -> mark int64 (BigInt).
// 3. MEDIATION `ids` is a comma-separated `string`: describe it as an array (style form, explode false) so
//    keysArg batching can pass a list. Its oneOf response (batch | search) is merged into one object.
function fix(node: any): any {
  if (Array.isArray(node)) return node.map(fix);
  if (!node || typeof node !== 'object') return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) out[k] = fix(v);
  if (Array.isArray(out.type) && out.type.includes('null')) {
    const t = out.type.filter((x: string) => x !== 'null');
    out.type = t.length === 1 ? t[0] : t;
    out.nullable = true;
  }
  if (Array.isArray(out.enum) && out.enum.includes(null)) {
    out.enum = out.enum.filter((x: any) => x !== null);
    out.nullable = true;
  }
  return out;
}
const EPOCH = new Set(['filedAt', 'deadlineAt', 'closedAt', 'ts', 'filedFrom', 'filedTo']);
function int64(node: any, key = ''): any {
  if (Array.isArray(node)) return node.map(n => int64(n));
  if (!node || typeof node !== 'object') return node;
  const out: any = {};
  for (const [k, v] of Object.entries(node)) out[k] = int64(v, k);
  if (EPOCH.has(key) && out.type === 'integer') out.format = 'int64';
  if (node.in === 'query' && EPOCH.has(node.name) && out.schema?.type === 'integer') out.schema.format = 'int64';
  return out;
}
const SPECS = resolve(process.env.PEER_SPECS || 'specs');  // the fixed-up specs, fed to the loader
mkdirSync(SPECS, { recursive: true });
async function spec(off: number, name: string, edit: (s: any) => any = s => s) {
  const raw = await fetch(`${url(off)}/openapi.json`).then(r => r.json());
  writeFileSync(`${SPECS}/${name}.json`, JSON.stringify(edit(fix(raw)), null, 1));
  return `${SPECS}/${name}.json`;
}
const mediationSpec = await spec(101, 'mediation', s => {
  const get = s.paths['/api/cases'].get;
  for (const p of get.parameters)
    if (p.name === 'ids' || p.name === 'partyIdNos')
      Object.assign(p, { schema: { type: 'array', items: { type: 'string' } }, style: 'form', explode: false });
  const [batch, search] = get.responses['200'].content['application/json'].schema.oneOf;
  get.responses['200'].content['application/json'].schema = {
    title: 'CasePage', type: 'object', properties: { ...batch.properties, ...search.properties } };
  return s;
});
const legalSpec = await spec(102, 'legal');
const litigationSpec = await spec(104, 'litigation', int64);

// GOVERNANCE: its SDL links federation v2.11, newer than this composer accepts (≤ v2.8); it imports only
// @key, so rewrite the version and compose from the fetched SDL.
const gov = await post(`${url(105)}/graphql`, JSON.stringify({ query: '{ _service { sdl } }' }), 'application/json');
writeFileSync(`${SPECS}/governance.graphql`, gov.data._service.sdl.replace('federation/v2.11', 'federation/v2.8'));

export const composeConfig = defineConfig({
  subgraphs: [
    { sourceHandler: loadOpenAPISubgraph('Mediation', {
        source: mediationSpec, endpoint: url(101),
        operationHeaders: { 'X-Api-Key': 'mediation-demo-key' } }),
      transforms: [createPrefixTransform({ value: 'M_', includeRootOperations: true })] },
    { sourceHandler: loadOpenAPISubgraph('Legal', {
        source: legalSpec, endpoint: url(102),
        operationHeaders: { Authorization: `Bearer ${tok.access_token}` } }),
      transforms: [createPrefixTransform({ value: 'L_', includeRootOperations: true })] },
    { sourceHandler: loadOpenAPISubgraph('Litigation', {
        source: litigationSpec, endpoint: url(104),
        operationHeaders: { 'X-Client-Id': 'hive-peer' },
        selectQueryOrMutationField: [{ type: 'query', fieldName: 'post_cases_batchGet' }] }),
      transforms: [createPrefixTransform({ value: 'C_', includeRootOperations: true })] },
    { sourceHandler: loadGraphQLHTTPSubgraph('Governance', {
        endpoint: `${url(105)}/graphql`, source: `${SPECS}/governance.graphql` }) },
  ],
  // Links by id (batched with keysArg: one batch read per target centre per level) and the resident's
  // base data (GOVERNANCE `_entities`, as OneDoor reads it).
  additionalTypeDefs: /* GraphQL */ `
    extend type Query {
      # a list: with a single-object return type (or result: "0") the entity comes back empty
      residents(idNumber: String!): [Resident]
        @resolveTo(sourceName: "Governance", sourceTypeName: "Query", sourceFieldName: "_entities",
                   sourceArgs: { representations: [{ __typename: "Resident", idNumber: "{args.idNumber}" }] })
    }
    extend type M_query_api_cases_items_items_related_items {
      # GOVERNANCE has no batch read by key but _entities: one representation per link (not keysArg:
      # keys are strings, representations objects); the gateway merges same-tick requests to one subgraph.
      gridEvents: [GridEvent]
        @resolveTo(sourceName: "Governance", sourceTypeName: "Query", sourceFieldName: "_entities",
                   requiredSelectionSet: "{ refNo }",
                   sourceArgs: { representations: [{ __typename: "GridEvent", eventNo: "{root.refNo}" }] })
      litigationCase: C_Case
        @resolveTo(sourceName: "Litigation", sourceTypeName: "Query", sourceFieldName: "C_post_cases_batchGet",
                   keyField: "refNo", keysArg: "input.caseNumbers", result: "cases", valueKeyField: "caseNumber")
    }
    extend type L_query_v1_applications_data_items_links_items {
      litigationCase: C_Case
        @resolveTo(sourceName: "Litigation", sourceTypeName: "Query", sourceFieldName: "C_post_cases_batchGet",
                   keyField: "target_id", keysArg: "input.caseNumbers", result: "cases", valueKeyField: "caseNumber")
    }
    extend type C_query_post_cases_batchGet_cases_items_related_items {
      mediationCase: M_Case
        @resolveTo(sourceName: "Mediation", sourceTypeName: "Query", sourceFieldName: "M_api_cases",
                   keyField: "ref", keysArg: "ids", result: "items", valueKeyField: "caseNo")
      legalApplication: L_Application
        @resolveTo(sourceName: "Legal", sourceTypeName: "Query", sourceFieldName: "L_v1_applications",
                   keyField: "ref", keysArg: "application_no", result: "data", valueKeyField: "application_no")
    }
    extend type Referral {
      mediationCase: M_Case
        @resolveTo(sourceName: "Mediation", sourceTypeName: "Query", sourceFieldName: "M_api_cases",
                   keyField: "refNo", keysArg: "ids", result: "items", valueKeyField: "caseNo")
    }
  `,
});
