// The small HTTP surface: routes are plain functions given by wiring; this module only
// does HTTP (parsing the path, status codes, JSON, errors). Bound to loopback unless
// configured otherwise.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface HttpReply {
  readonly status: number;
  readonly body: unknown;
  readonly contentType?: string;
}

export type Route = (params: Readonly<Record<string, string>>) => Promise<HttpReply>;

export interface RouteTable {
  readonly [pattern: string]: Route;
}

function match(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i += 1) {
    const segment = want[i] ?? '';
    const value = got[i] ?? '';
    if (segment.startsWith(':')) {
      try {
        params[segment.slice(1)] = decodeURIComponent(value);
      } catch {
        return null;
      }
    } else if (segment !== value) return null;
  }
  return params;
}

async function respond(routes: RouteTable, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  let reply: HttpReply = { status: 404, body: { error: 'not found' } };
  if (request.method !== 'GET' && request.method !== 'HEAD')
    reply = { status: 405, body: { error: 'only GET is supported' } };
  else {
    for (const [pattern, route] of Object.entries(routes)) {
      const params = match(pattern, path);
      if (params === null) continue;
      try {
        reply = await route(params);
      } catch (error) {
        reply = { status: 500, body: { error: error instanceof Error ? error.message : String(error) } };
      }
      break;
    }
  }
  const text = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
  response.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json; charset=utf-8' });
  response.end(request.method === 'HEAD' ? undefined : text);
}

/** `routes` is asked per request, so wiring can bind the port before every route exists. */
export async function startHttpServer(host: string, port: number, routes: () => RouteTable): Promise<Server> {
  const server = createServer((request, response) => {
    void respond(routes(), request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
