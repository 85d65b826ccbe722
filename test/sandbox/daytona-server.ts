/**
 * A local stand-in for the Daytona control plane and its toolbox daemon,
 * serving exactly the HTTP endpoints that `sandbox/daytona.ts` reaches through
 * the real `@daytonaio/sdk`. Each sandbox is a real directory on this machine,
 * so clones, commands and file transfers really happen; only the VM is faked.
 *
 * Shapes follow the generated clients (`@daytona/api-client`,
 * `@daytona/toolbox-api-client`) and the daemon's behaviour where the SDK
 * depends on it: `process/execute` splits the command on spaces honouring
 * quotes and execs it WITHOUT a shell (as the daemon does), and answers 408
 * when its timeout kills the command.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, when the request had one. */
  body?: unknown;
  authorized: boolean;
}

interface FakeSandbox {
  id: string;
  labels: Record<string, string>;
  state: 'starting' | 'started' | 'destroyed';
  root: string;
  createdAt: string;
}

export interface FakeDaytona {
  /** The API URL to give the SDK (`apiUrl`). */
  url: string;
  requests: RecordedRequest[];
  /** Live sandboxes by id. */
  sandboxes: Map<string, FakeSandbox>;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function startFakeDaytona(opts: { apiKey: string }): Promise<FakeDaytona> {
  const requests: RecordedRequest[] = [];
  const sandboxes = new Map<string, FakeSandbox>();
  const baseDir = await mkdtemp(join(tmpdir(), 'fake-daytona-'));
  let url = '';

  const dto = (s: FakeSandbox) => ({
    id: s.id,
    organizationId: 'org-test',
    name: s.id,
    user: 'daytona',
    env: {},
    labels: s.labels,
    public: false,
    networkBlockAll: false,
    target: 'local',
    cpu: 1,
    gpu: 0,
    memory: 1,
    disk: 1,
    state: s.state,
    createdAt: s.createdAt,
    updatedAt: s.createdAt,
    // Points the SDK's toolbox calls back at this server: the SDK appends `/{sandboxId}`.
    toolboxProxyUrl: `${url}/toolbox`,
  });

  const live = (id: string): FakeSandbox => {
    const s = sandboxes.get(id);
    if (!s || s.state === 'destroyed')
      throw new HttpError(404, `Sandbox with ID or name ${id} not found`);
    return s;
  };

  async function api(
    method: string,
    parts: string[],
    query: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    if (method === 'POST' && parts.length === 1) {
      const body = (await readJson(req)) as { labels?: Record<string, string> };
      const id = `sbx-${randomUUID().slice(0, 8)}`;
      const root = join(baseDir, id);
      await mkdir(root, { recursive: true });
      // Starts in 'starting' and turns 'started' on the next read, so the SDK's wait-until-started polling is exercised.
      const s: FakeSandbox = {
        id,
        labels: body.labels ?? {},
        state: 'starting',
        root,
        createdAt: new Date().toISOString(),
      };
      sandboxes.set(id, s);
      return json(res, 200, dto(s));
    }
    if (method === 'GET' && parts.length === 1) {
      const wanted = query['labels'] ? (JSON.parse(query['labels']) as Record<string, string>) : {};
      const items = [...sandboxes.values()]
        .filter((s) => s.state !== 'destroyed')
        .filter((s) => Object.entries(wanted).every(([k, v]) => s.labels[k] === v))
        .map(dto);
      return json(res, 200, { items, nextCursor: null });
    }
    const id = decodeURIComponent(parts[1] ?? '');
    if (method === 'GET' && parts.length === 2) {
      const s = live(id);
      const out = dto(s);
      if (s.state === 'starting') s.state = 'started';
      return json(res, 200, out);
    }
    if (method === 'DELETE' && parts.length === 2) {
      const s = live(id);
      s.state = 'destroyed';
      await rm(s.root, { recursive: true, force: true });
      return json(res, 200, dto(s));
    }
    if (method === 'GET' && parts.length === 3 && parts[2] === 'toolbox-proxy-url') {
      live(id);
      return json(res, 200, { url: `${url}/toolbox` });
    }
    throw new HttpError(404, `no route ${method} /${parts.join('/')}`);
  }

  async function toolbox(
    method: string,
    parts: string[],
    query: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
  ) {
    const s = live(decodeURIComponent(parts[1] ?? ''));
    if (s.state !== 'started') throw new HttpError(409, 'sandbox is not started');
    const route = `${method} /${parts.slice(2).join('/')}`;
    const at = (p: string | undefined) => {
      if (!p) throw new HttpError(400, 'path is required');
      return isAbsolute(p) ? p : resolve(s.root, p);
    };
    switch (route) {
      case 'GET /work-dir':
      case 'GET /user-home-dir':
        return json(res, 200, { dir: s.root });
      case 'POST /git/clone': {
        const body = (await readJson(req)) as {
          url: string;
          path: string;
          branch?: string;
          commit_id?: string;
        };
        const dest = at(body.path);
        const args = [
          'clone',
          ...(body.branch ? ['--branch', body.branch] : []),
          '--',
          body.url,
          dest,
        ];
        const r = await run('git', args, s.root, 120_000);
        if (r.code !== 0)
          throw new HttpError(400, `failed to clone repository: ${r.output.trim()}`);
        if (body.commit_id) {
          const c = await run('git', ['checkout', '--detach', body.commit_id], dest, 60_000);
          if (c.code !== 0)
            throw new HttpError(400, `failed to checkout commit: ${c.output.trim()}`);
        }
        return json(res, 200, {});
      }
      case 'POST /process/execute': {
        const body = (await readJson(req)) as { command: string; timeout?: number; cwd?: string };
        const argv = parseCommand(body.command);
        if (argv.length === 0) throw new HttpError(400, 'empty command');
        const timeoutMs = (body.timeout && body.timeout > 0 ? body.timeout : 360) * 1000;
        const r = await run(argv[0]!, argv.slice(1), body.cwd ? at(body.cwd) : s.root, timeoutMs);
        if (r.timedOut) throw new HttpError(408, 'command execution timeout');
        return json(res, 200, { exitCode: r.code ?? -1, result: r.output });
      }
      case 'GET /files': {
        const dir = at(query['path'] ?? '.');
        let names: string[];
        try {
          names = await readdir(dir);
        } catch (err) {
          throw new HttpError(
            (err as NodeJS.ErrnoException).code === 'ENOENT' ? 404 : 400,
            (err as Error).message,
          );
        }
        const infos = [];
        for (const name of names) {
          const st = await stat(join(dir, name)).catch(() => null);
          if (!st) continue;
          infos.push({
            name,
            path: join(dir, name),
            isDir: st.isDirectory(),
            size: st.size,
            mode: (st.mode & 0o777).toString(8),
            permissions: (st.mode & 0o777).toString(8),
            modTime: st.mtime.toISOString(),
            modifiedAt: st.mtime.toISOString(),
            owner: 'daytona',
            group: 'daytona',
          });
        }
        return json(res, 200, infos);
      }
      case 'POST /files/bulk-download': {
        const body = (await readJson(req)) as { paths: string[] };
        const boundary = `fake-daytona-${randomUUID()}`;
        const chunks: Buffer[] = [];
        for (const p of body.paths) {
          const st = await stat(at(p)).catch(() => null);
          if (st?.isFile()) {
            chunks.push(
              partHeader(boundary, 'file', p, 'application/octet-stream'),
              await readFile(at(p)),
              Buffer.from('\r\n'),
            );
          } else {
            const err = JSON.stringify({
              message: `file not found: ${p}`,
              statusCode: 404,
              code: 'FILE_NOT_FOUND',
            });
            chunks.push(
              partHeader(boundary, 'error', p, 'application/json'),
              Buffer.from(err),
              Buffer.from('\r\n'),
            );
          }
        }
        chunks.push(Buffer.from(`--${boundary}--\r\n`));
        res.writeHead(200, { 'content-type': `multipart/form-data; boundary=${boundary}` });
        return void res.end(Buffer.concat(chunks));
      }
      case 'POST /files/bulk-upload': {
        const type = req.headers['content-type'] ?? '';
        const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(type);
        if (!m) throw new HttpError(400, 'multipart boundary missing');
        const parts = parseMultipart(await readBody(req), (m[1] ?? m[2])!);
        const paths = new Map<string, string>();
        const files = new Map<string, Buffer>();
        for (const part of parts) {
          const f = /^files\[(\d+)\]\.(path|file)$/.exec(part.name);
          if (!f) continue;
          if (f[2] === 'path') paths.set(f[1]!, part.data.toString('utf8'));
          else files.set(f[1]!, part.data);
        }
        for (const [i, data] of files) {
          const dest = at(paths.get(i));
          await mkdir(dirname(dest), { recursive: true });
          await writeFile(dest, data);
        }
        return json(res, 200, {});
      }
      case 'DELETE /files': {
        await rm(at(query['path']), {
          recursive: query['recursive'] === 'true',
          force: false,
        }).catch((err: Error) => {
          throw new HttpError(404, err.message);
        });
        return json(res, 200, {});
      }
    }
    throw new HttpError(404, `no toolbox route ${route}`);
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const query = Object.fromEntries(u.searchParams);
      const parts = u.pathname.split('/').filter(Boolean);
      const authorized = req.headers['authorization'] === `Bearer ${opts.apiKey}`;
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        path: u.pathname,
        query,
        authorized,
      };
      requests.push(rec);
      try {
        if (!authorized) throw new HttpError(401, 'Unauthorized: invalid API key');
        if ((req.headers['content-type'] ?? '').startsWith('application/json')) {
          const raw = await readBody(req);
          rec.body = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
          (req as IncomingMessage & { jsonBody?: unknown }).jsonBody = rec.body;
        }
        if (parts[0] === 'sandbox') await api(rec.method, parts, query, req, res);
        else if (parts[0] === 'toolbox') await toolbox(rec.method, parts, query, req, res);
        else throw new HttpError(404, `no route ${u.pathname}`);
      } catch (err) {
        const status = err instanceof HttpError ? err.status : 500;
        if (!res.headersSent)
          json(res, status, { statusCode: status, message: (err as Error).message });
        else res.destroy();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    sandboxes,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await rm(baseDir, { recursive: true, force: true });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** The JSON body was read once by the dispatcher (to record it); handlers take it from there. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  return (req as IncomingMessage & { jsonBody?: unknown }).jsonBody ?? {};
}

function partHeader(boundary: string, name: string, filename: string, type: string): Buffer {
  return Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
}

function parseMultipart(body: Buffer, boundary: string): { name: string; data: Buffer }[] {
  const delim = Buffer.from(`--${boundary}`);
  const out: { name: string; data: Buffer }[] = [];
  let pos = body.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next === -1) break;
    const part = body.subarray(start + 2, next - 2); // skip the CRLF after the delimiter and before the next one
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('utf8');
    const name = /name="([^"]*)"/i.exec(headers)?.[1] ?? '';
    out.push({ name, data: part.subarray(headerEnd + 4) });
    pos = next;
  }
  return out;
}

/** The daemon's argv splitting: spaces separate, '…' and "…" group, no escapes, no shell. */
function parseCommand(command: string): string[] {
  const args: string[] = [];
  let cur = '';
  let quote = '';
  for (const ch of command) {
    if ((ch === '"' || ch === "'") && (quote === '' || quote === ch))
      quote = quote === '' ? ch : '';
    else if (ch === ' ' && quote === '') {
      if (cur.length > 0) args.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.length > 0) args.push(cur);
  return args;
}

/** Runs a program with combined output; on timeout kills its whole process group. */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; output: string; timedOut: boolean }> {
  return new Promise((done) => {
    // A bare environment: the fake sandbox must not see the test process's variables.
    const child = spawn(cmd, args, {
      cwd,
      detached: true,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, timeoutMs);
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', (err) => {
      clearTimeout(timer);
      done({ code: -1, output: err.message, timedOut: false });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output: Buffer.concat(chunks).toString('utf8'), timedOut });
    });
  });
}
