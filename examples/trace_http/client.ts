// Traffic for the trace_http demo and its tests, run inside the client namespace:
//
//   echo '{"http":[["GET","10.200.0.1","/foo"]],"port":8080}' | node client.js
//
// Sends, in this order: the HTTP requests (`concurrency` keep-alive connections, each request
// waiting for its response), raw TCP payloads (`tcp`: connect, write, close) and UDP datagrams
// (`udp`). Exits 0 when everything was sent and every HTTP response read; else prints why and
// exits 1.
import { request, Agent } from "node:http";
import { connect } from "node:net";
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";

export type HttpRequest = [method: string, host: string, path: string];

export interface Traffic {
  port: number;
  http?: HttpRequest[];
  /** parallel keep-alive connections for `http`; default 1 (requests strictly in order) */
  concurrency?: number;
  tcp?: { host: string; port: number; text: string }[];
  udp?: { host: string; port: number; text: string }[];
}

/** Methods that send a small body, so the tracer sees requests with payloads too. */
const WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

function sendHttp(agent: Agent, port: number, [method, host, path]: HttpRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const r = request({ host, port, method, path, agent }, (res) => {
      res.resume();
      res.on("end", resolve);
      res.on("error", reject);
    });
    r.on("error", (e) => reject(new Error(`${method} ${host} ${path}: ${e.message}`)));
    r.end(WITH_BODY.has(method) ? "hello" : undefined);
  });
}

function sendTcp(host: string, port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => s.end(text));
    s.on("error", reject);
    s.resume();
    s.on("close", () => resolve());
  });
}

function sendUdp(host: string, port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = createSocket(isIPv6(host) ? "udp6" : "udp4");
    s.send(text, port, host, (e) => {
      s.close();
      if (e) reject(e);
      else resolve();
    });
  });
}

async function send(t: Traffic): Promise<void> {
  const http = t.http ?? [];
  const agent = new Agent({ keepAlive: true, maxSockets: t.concurrency ?? 1 });
  let next = 0;
  const worker = async () => {
    while (next < http.length) await sendHttp(agent, t.port, http[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(t.concurrency ?? 1, http.length) }, worker));
  agent.destroy();
  for (const x of t.tcp ?? []) await sendTcp(x.host, x.port, x.text);
  for (const x of t.udp ?? []) await sendUdp(x.host, x.port, x.text);
}

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
send(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Traffic).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`client: ${(e as Error).message}`);
    process.exit(1);
  },
);
