/**
 * Control socket: newline-delimited JSON requests and responses over a unix socket (mode 0600, root only),
 * the channel between `tsipsec status|initiate|terminate|down` and a running `tsipsec up`.
 *
 *   request:  {"id": 1, "cmd": "status"} | {"cmd": "initiate", "child": "net"} | {"cmd": "terminate", "ike"|"child": "name"}
 *             | {"cmd": "reload"} | {"cmd": "down"}
 *   response: {"id": 1, "ok": true, "result": ...} | {"id": 1, "ok": false, "error": "..."}
 */
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';

export const DEFAULT_SOCKET = '/run/tsipsec/tsipsec.sock';
const MAX_LINE = 64 * 1024;

export type ControlRequest =
  | { cmd: 'status' }
  | { cmd: 'initiate'; child: string }
  | { cmd: 'terminate'; ike?: string; child?: string }
  | { cmd: 'down' }
  | { cmd: 'reload' };

export type ControlHandler = (req: ControlRequest) => Promise<unknown>;

export function parseControlRequest(line: string): ControlRequest | string {
  let v: unknown;
  try { v = JSON.parse(line); } catch { return 'request is not JSON'; }
  if (typeof v !== 'object' || v === null) return 'request is not an object';
  const o = v as Record<string, unknown>;
  switch (o.cmd) {
    case 'status': case 'down': case 'reload': return { cmd: o.cmd };
    case 'initiate': return typeof o.child === 'string' ? { cmd: 'initiate', child: o.child } : 'initiate needs "child"';
    case 'terminate':
      if (typeof o.ike === 'string') return { cmd: 'terminate', ike: o.ike };
      if (typeof o.child === 'string') return { cmd: 'terminate', child: o.child };
      return 'terminate needs "ike" or "child"';
    default: return `unknown command ${JSON.stringify(o.cmd)}`;
  }
}

export class ControlServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly path: string, private readonly handler: ControlHandler) {}

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    if (existsSync(this.path)) {
      // A live daemon answers; a stale socket from a crashed run is removed.
      if (await isAlive(this.path)) throw new Error(`control socket ${this.path} is in use by a running tsipsec`);
      unlinkSync(this.path);
    }
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.path, () => resolve());
    });
    chmodSync(this.path, 0o600);
  }

  private serve(s: Socket): void {
    this.sockets.add(s);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) { s.end(JSON.stringify({ ok: false, error: 'request too large' }) + '\n'); return; }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const req = parseControlRequest(line);
        const id = (() => { try { return (JSON.parse(line) as { id?: unknown }).id; } catch { return undefined; } })();
        if (typeof req === 'string') { s.write(JSON.stringify({ id, ok: false, error: req }) + '\n'); continue; }
        this.handler(req).then(
          (result) => { if (!s.destroyed) s.write(JSON.stringify({ id, ok: true, result }) + '\n'); },
          (err: unknown) => { if (!s.destroyed) s.write(JSON.stringify({ id, ok: false, error: err instanceof Error ? err.message : String(err) }) + '\n'); },
        );
      }
    });
    s.on('error', () => undefined);
    s.on('close', () => this.sockets.delete(s));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    try { unlinkSync(this.path); } catch { /* already gone */ }
  }
}

function isAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    const t = setTimeout(() => { c.destroy(); resolve(false); }, 500);
    c.once('connect', () => { clearTimeout(t); c.destroy(); resolve(true); });
    c.once('error', () => { clearTimeout(t); resolve(false); });
  });
}

/** Sends one request and waits for its response (bounded by timeoutMs). */
export function controlRequest(path: string, req: ControlRequest, timeoutMs = 10_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    const t = setTimeout(() => { c.destroy(); reject(new Error(`no answer from ${path} within ${timeoutMs} ms`)); }, timeoutMs);
    c.setEncoding('utf8');
    c.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(t);
      reject(new Error(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `tsipsec is not running (no control socket at ${path})` : `control socket ${path}: ${e.message}`));
    });
    c.on('connect', () => c.write(JSON.stringify({ id: 1, ...req }) + '\n'));
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(t);
      c.end();
      try {
        const res = JSON.parse(buf.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
        if (res.ok) resolve(res.result); else reject(new Error(res.error ?? 'request failed'));
      } catch { reject(new Error('malformed answer from daemon')); }
    });
  });
}
