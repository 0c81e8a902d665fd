// An OTLP/HTTP receiver for tests, run as its own process (inside a test's network namespace,
// where the agent under test pushes): listens on 127.0.0.1, answers every POST with an empty
// ExportMetricsServiceResponse, and writes one JSON line per request to stdout — the first line
// is {"port": N}, then {"path", "contentType", "body": base64}. The test decodes the bodies.
import { createServer } from "node:http";

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    process.stdout.write(
      JSON.stringify({
        path: req.url,
        method: req.method,
        contentType: req.headers["content-type"],
        body: Buffer.concat(chunks).toString("base64"),
      }) + "\n",
    );
    res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  });
});
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  process.stdout.write(JSON.stringify({ port: typeof a === "object" && a ? a.port : 0 }) + "\n");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
// The test's end (or death) closes our stdin: stop then too, so nothing is left running.
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
