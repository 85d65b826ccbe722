/**
 * docker-compose.yml and the load balancer's config, read without Docker:
 * Redis durable, agent nodes that scale behind nginx, required secrets that
 * fail with a message, and SSE that passes the proxy unbuffered.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../server/config.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  image?: string;
  build?: string | { context: string };
  command?: string[] | string;
  ports?: string[];
  expose?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  env_file?: Array<string | { path: string; required?: boolean }>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  container_name?: string;
  stop_grace_period?: string;
  security_opt?: string[];
}
const compose = parse(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};
const { redis, agent, lb } = compose.services;
const nginx = readFileSync(join(REPO, 'deploy/nginx.conf'), 'utf8').replace(/#.*$/gm, '');

/** Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}` against `env`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{(\w+)(?::([?-])([^}]*))?\}/g,
    (_, name: string, op?: string, arg?: string) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (op === '?') throw new Error(`required variable ${name} is missing a value: ${arg}`);
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

describe('docker-compose.yml', () => {
  it('has Redis (Valkey 8, under an open-source licence) with an append-only file on a named volume, checked by a health check', () => {
    expect(redis?.image).toMatch(/^valkey\/valkey:8(\.|-|$)/);
    const command = Array.isArray(redis!.command) ? redis!.command.join(' ') : redis!.command;
    expect(command).toMatch(/--appendonly yes/);
    const data = redis!.volumes?.find((v) => v.split(':')[1] === '/data');
    expect(data).toBeDefined();
    expect(compose.volumes).toHaveProperty(data!.split(':')[0]!);
    expect(redis!.healthcheck?.test.join(' ')).toMatch(/valkey-cli .*ping$/);
  });

  it('builds the agent from this repository and lets it scale: no host port, no fixed name', () => {
    const build = typeof agent!.build === 'string' ? agent!.build : agent!.build?.context;
    expect(build).toBe('.');
    expect(agent!.ports).toBeUndefined();
    expect(agent!.container_name).toBeUndefined();
    expect(agent!.expose).toContain('8000');
  });

  it('points every node at the redis service, beyond loopback, with the required secrets', () => {
    const env = agent!.environment!;
    const url = new URL(env['REDIS_URL']!);
    expect(url.protocol).toBe('redis:');
    expect(Object.keys(compose.services)).toContain(url.hostname);
    expect(url.hostname).toBe('redis');
    expect(env['HOST']).toBe('0.0.0.0');
    expect(env['PORT']).toBe('8000');
    for (const name of ['SECRET_KEY', 'ADMIN_TOKEN', 'REDIS_PASSWORD'])
      expect(env[name]).toMatch(new RegExp(`^\\$\\{${name}:\\?.*\\.env.*\\}$`));
    // Every variable it sets is one the node reads.
    for (const name of Object.keys(env)) expect(Object.keys(CONFIG_VARIABLES)).toContain(name);
    expect(agent!.depends_on?.['redis']?.condition).toBe('service_healthy');
    // .env is optional: the secrets may come from the shell.
    expect(agent!.env_file).toContainEqual({ path: '.env', required: false });
  });

  it('stops with a message naming SECRET_KEY and .env when it is not set, and passes the values when they are', () => {
    const env = agent!.environment!;
    expect(() => interpolate(env['SECRET_KEY']!, {})).toThrow(
      /SECRET_KEY.*set SECRET_KEY in \.env/,
    );
    expect(() => interpolate(env['ADMIN_TOKEN']!, { SECRET_KEY: 'x' })).toThrow(
      /ADMIN_TOKEN.*set ADMIN_TOKEN in \.env/,
    );
    expect(interpolate(env['SECRET_KEY']!, { SECRET_KEY: 'a-secret-key-0123456789' })).toBe(
      'a-secret-key-0123456789',
    );
  });

  it('runs Redis with a password the nodes are given, which its health check uses too', () => {
    const command = redis!.command as string[];
    const at = command.indexOf('--requirepass');
    expect(at).toBeGreaterThan(0);
    expect(() => interpolate(command[at + 1]!, {})).toThrow(
      /REDIS_PASSWORD.*set REDIS_PASSWORD in \.env/,
    );
    expect(interpolate(command[at + 1]!, { REDIS_PASSWORD: 'pw-0123' })).toBe('pw-0123');
    expect(interpolate(agent!.environment!['REDIS_PASSWORD']!, { REDIS_PASSWORD: 'pw-0123' })).toBe(
      'pw-0123',
    );
    const test = (redis!.healthcheck?.test ?? []) as string[];
    expect(test.map((t) => interpolate(t, { REDIS_PASSWORD: 'pw-0123' }))).toEqual([
      'CMD',
      'valkey-cli',
      '--no-auth-warning',
      '-a',
      'pw-0123',
      'ping',
    ]);
  });

  it("checks the agent's health on its own port and gives it time to hand sessions over", () => {
    const test = agent!.healthcheck?.test ?? [];
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toMatch(/127\.0\.0\.1:8000\/health/);
    expect(agent!.stop_grace_period).toMatch(/^\d+s$/);
  });

  it('publishes port 8000 on the load balancer only, after the agent is healthy, with deploy/nginx.conf', () => {
    // A supported stable branch (1.30, April 2026), not one past its end of life.
    expect(lb!.image).toMatch(/^nginx:1\.30-alpine$/);
    expect(lb!.ports).toEqual(['8000:8000']);
    expect(lb!.depends_on?.['agent']?.condition).toBe('service_healthy');
    const conf = lb!.volumes?.find((v) => v.endsWith(':/etc/nginx/nginx.conf:ro'));
    expect(conf).toBeDefined();
    expect(existsSync(join(REPO, conf!.split(':')[0]!))).toBe(true);
    const published = Object.entries(compose.services)
      .filter(([, s]) => s.ports !== undefined)
      .map(([name]) => name);
    expect(published).toEqual(['lb']);
  });
});

describe('the local sandbox in the container: deploy/seccomp-sandbox.json', () => {
  const profile = JSON.parse(readFileSync(join(REPO, 'deploy/seccomp-sandbox.json'), 'utf8')) as {
    defaultAction: string;
    syscalls: Array<{ names: string[]; action: string; errnoRet?: number }>;
  };
  const refused = new Set(
    profile.syscalls.filter((r) => r.action === 'SCMP_ACT_ERRNO').flatMap((r) => r.names),
  );

  it('is what the agent runs with, beside unconfined AppArmor and system paths (bubblewrap mounts a /proc of its own)', () => {
    expect(agent!.security_opt).toEqual([
      'seccomp=./deploy/seccomp-sandbox.json',
      'apparmor=unconfined',
      'systempaths=unconfined',
    ]);
    expect(existsSync(join(REPO, 'deploy/seccomp-sandbox.json'))).toBe(true);
  });

  it('lets bubblewrap and slirp4netns make and join namespaces', () => {
    expect(profile.defaultAction).toBe('SCMP_ACT_ALLOW');
    for (const call of ['unshare', 'clone', 'clone3', 'mount', 'umount2', 'pivot_root', 'setns'])
      expect(refused.has(call), call).toBe(false);
  });

  it("keeps refusing what Docker's default profile refuses that no sandbox needs", () => {
    for (const call of [
      'bpf',
      'perf_event_open',
      'ptrace',
      'process_vm_readv',
      'process_vm_writev',
      'kexec_load',
      'init_module',
      'finit_module',
      'delete_module',
      'keyctl',
      'add_key',
      'request_key',
      'open_by_handle_at',
      'userfaultfd',
      'reboot',
      'swapon',
      'settimeofday',
      'clock_settime',
      'io_uring_setup',
      'fsopen',
      'move_mount',
    ])
      expect(refused.has(call), call).toBe(true);
    for (const r of profile.syscalls) expect(r.errnoRet).toBe(1);
  });
});

describe('deploy/nginx.conf', () => {
  const directive = (name: string) =>
    [...nginx.matchAll(new RegExp(`^\\s*${name}\\s+([^;]*);`, 'gm'))].map((m) => m[1]!.trim());

  it("listens on 8000 and sends every request to agent:8000, re-resolving the name through Docker's DNS", () => {
    expect(directive('listen')).toContain('8000');
    const resolver = directive('resolver')[0] ?? '';
    expect(resolver).toMatch(/^127\.0\.0\.11\b/);
    expect(Number(/valid=(\d+)s/.exec(resolver)?.[1])).toBeLessThanOrEqual(30);
    // A variable in proxy_pass is what makes nginx resolve per request instead of once at startup.
    const pass = directive('proxy_pass');
    expect(pass).toHaveLength(1);
    const variable = /^\$(\w+)$/.exec(pass[0]!)?.[1];
    expect(variable).toBeDefined();
    expect(directive('set')).toContain(`$${variable} http://agent:8000`);
  });

  it('lets Server-Sent Events through: HTTP/1.1, no buffering, long reads', () => {
    expect(directive('proxy_http_version')).toEqual(['1.1']);
    expect(directive('proxy_buffering')).toEqual(['off']);
    expect(directive('proxy_set_header')).toContain('Connection ""');
    const seconds = (v: string) =>
      Number(/^(\d+)/.exec(v)![1]) *
      ({ s: 1, m: 60, h: 3600, d: 86400 }[/(\D)$/.exec(v)?.[1] ?? 's'] ?? 1);
    expect(seconds(directive('proxy_read_timeout')[0]!)).toBeGreaterThanOrEqual(3600);
  });

  it('keeps X-Forwarded-For, so the nodes never take a proxied request for a local one', () => {
    expect(directive('proxy_set_header')).toContain('X-Forwarded-For $proxy_add_x_forwarded_for');
  });
});
