// PostGraphile 5.1.5 over the peer schema (bench/peer/README.md): govhub's tables, behind
// views that keep only what the benchmark principal's jurisdiction may read.
// Run: node server.mjs <postgres-url> <port> <schema>
import "./node20.mjs";
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";

const [connectionString, port, schema] = process.argv.slice(2);

const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString, schemas: [schema] })],
  grafserv: { port: Number(port), graphqlPath: "/graphql", graphiql: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (error) => { console.error(error); process.exit(1); });
serv.addTo(server).catch((error) => { console.error(error); process.exit(1); });
server.listen(Number(port), "127.0.0.1");
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => { server.close(); pgl.release().finally(() => process.exit(0)); });
}
