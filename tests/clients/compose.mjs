// Composes subgraph SDL files with Apollo's own composition library.
// usage: node compose.mjs NAME=FILE [NAME=FILE ...]
// Prints the supergraph SDL and exits 0, or prints each error and exits 1.
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

const services = process.argv.slice(2).map((arg) => {
  const [name, file] = arg.split("=");
  return { name, url: `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(file, "utf8")) };
});
const result = composeServices(services);
if (result.errors && result.errors.length) {
  for (const error of result.errors) console.error(`${error.extensions?.code ?? "ERROR"}: ${error.message}`);
  process.exit(1);
}
for (const hint of result.hints ?? []) console.error(`hint ${hint.definition.code}: ${hint.message}`);
process.stdout.write(result.supergraphSdl);
