// Copies the pinned GraphiQL page assets from node_modules into the Python package
// (gateway/graphiql/static/), with a manifest of versions and SRI hashes.
//
//   cd vendor/graphiql && npm ci --ignore-scripts && node vendor.mjs
//
// The versions are those strawberry-graphql's own IDE page loads from a CDN; the
// files are byte-identical to them (the hashes match that page's `integrity`).
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const target = join(here, "..", "..", "gateway", "graphiql", "static");

// served name → [package, path inside the package]
const ASSETS = {
  "react.production.min.js": ["react", "umd/react.production.min.js"],
  "react-dom.production.min.js": ["react-dom", "umd/react-dom.production.min.js"],
  "graphiql.min.js": ["graphiql", "graphiql.min.js"],
  "graphiql.min.css": ["graphiql", "graphiql.min.css"],
  "plugin-explorer.umd.js": ["@graphiql/plugin-explorer", "dist/index.umd.js"],
  "plugin-explorer.css": ["@graphiql/plugin-explorer", "dist/style.css"],
};

const pkg = (name) => JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8"));
const pinned = JSON.parse(readFileSync(join(here, "package.json"), "utf8")).dependencies;

rmSync(target, { recursive: true, force: true });
mkdirSync(target, { recursive: true });
const manifest = {};
const licences = [];
for (const [served, [name, path]] of Object.entries(ASSETS)) {
  const meta = pkg(name);
  if (meta.version !== pinned[name]) {
    throw new Error(`${name} ${meta.version} installed, ${pinned[name]} pinned: run npm ci`);
  }
  copyFileSync(join(modules, name, path), join(target, served));
  const digest = createHash("sha384").update(readFileSync(join(target, served))).digest("base64");
  manifest[served] = { package: name, version: meta.version, path, license: meta.license,
                       integrity: `sha384-${digest}` };
}
for (const name of Object.keys(pinned).sort()) {
  const meta = pkg(name);
  const file = readdirSync(join(modules, name)).find((f) => /^licen[cs]e/i.test(f));
  const text = file ? readFileSync(join(modules, name, file), "utf8").trim()
                    : `${meta.license} (package.json of ${name}; the package ships no licence file)`;
  licences.push(`${name} ${meta.version}\n${"=".repeat(name.length + meta.version.length + 1)}\n\n${text}\n`);
}
writeFileSync(join(target, "assets.json"), JSON.stringify(manifest, null, 2) + "\n");
writeFileSync(join(target, "THIRD-PARTY-LICENSES.txt"), licences.join("\n"));
console.log(`vendored ${Object.keys(manifest).length} files into ${target}`);
