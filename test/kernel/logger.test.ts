/**
 * The structured log: one JSON line per event, secrets redacted wherever they
 * appear, and every line about a session naming it in `session`.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../kernel/logger.ts';
import { createRedactor, redactSecretShapes } from '../../kernel/redact.ts';
import { startInProcess } from '../support/service/in-process.ts';
import { waitFor } from '../support/wait.ts';

const SECRET_KEY = 'a-configured-secret-key-0123456789';
const ADMIN_TOKEN = 'the-admin-token-from-the-env-42';
const API_TOKEN = 'swa_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z';
const OPENAI_KEY = 'sk-proj-AbCdEfGhIjKlMnOpQrStUv';

function capture(secrets: string[] = [SECRET_KEY, ADMIN_TOKEN]) {
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    base: { node: 'n1' },
    write: (l) => lines.push(l),
    secrets,
  });
  return {
    logger,
    lines,
    parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  it('writes one JSON line per event with level, message, node and fields; below the level nothing', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      base: { node: 'n1' },
      write: (l) => lines.push(l),
    });
    logger.info('quiet');
    logger.warn('loud', { session: 's1', n: 3 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      msg: 'loud',
      node: 'n1',
      session: 's1',
      n: 3,
      t: expect.any(String),
    });
  });

  it('redacts fields whose names look secret', () => {
    const { logger, parsed } = capture();
    logger.info('x', {
      api_key: 'plain',
      authorization: 'whatever',
      nested: { password: 'p', ok: 'fine' },
    });
    expect(parsed()[0]).toMatchObject({
      api_key: '[redacted]',
      authorization: '[redacted]',
      nested: { password: '[redacted]', ok: 'fine' },
    });
  });

  it('redacts the configured secrets and credential-shaped values inside any string', () => {
    const { logger, lines, parsed } = capture();
    logger.error(`boot with ${SECRET_KEY}`, {
      err: `Error: request with Authorization: Bearer ${API_TOKEN} failed`,
      detail: `admin=${ADMIN_TOKEN}; key ${OPENAI_KEY}.`,
      list: [`token ${API_TOKEN}`, 42, null],
      deep: { a: { b: `bearer abc.def-ghi` } },
    });
    const all = lines.join('\n');
    for (const s of [SECRET_KEY, ADMIN_TOKEN, API_TOKEN, OPENAI_KEY, 'abc.def-ghi'])
      expect(all).not.toContain(s);
    expect(parsed()[0]).toMatchObject({
      msg: 'boot with [redacted]',
      err: 'Error: request with Authorization: Bearer [redacted] failed',
      detail: 'admin=[redacted]; key [redacted].',
      list: ['token [redacted]', 42, null],
      deep: { a: { b: 'bearer [redacted]' } },
    });
  });

  it('keeps child loggers redacting, and leaves ordinary text alone', () => {
    const { logger, parsed } = capture();
    const child = logger.child({ session: 's1' });
    child.warn('ordinary', {
      note: 'task-force sk-short swa_short Bearer <token> desk-1234567890123456789',
    });
    child.warn(`again ${SECRET_KEY}`);
    const [first, second] = parsed();
    expect(first).toMatchObject({
      session: 's1',
      node: 'n1',
      note: 'task-force sk-short swa_short Bearer <token> desk-1234567890123456789',
    });
    expect(second!['msg']).toBe('again [redacted]');
  });

  it('ignores configured secrets too short to search for, and redacts the longest first', () => {
    const redact = createRedactor([
      'short',
      undefined,
      'secret-value-1',
      'secret-value-1-and-more',
    ]);
    expect(redact('short secret-value-1-and-more secret-value-1')).toBe(
      'short [redacted] [redacted]',
    );
    expect(redactSecretShapes(`x ${OPENAI_KEY} y`)).toBe('x [redacted] y');
    expect(redactSecretShapes(SECRET_KEY)).toBe(SECRET_KEY);
  });

  it('names the session in every line about one (runtime, node, API)', async () => {
    const svc = await startInProcess();
    try {
      const created = await svc.call('POST', '/agent/sessions', {
        goal: 'log me',
        repo_url: 'https://example.com/o/r.git',
        mode: 'review',
      });
      const id = created.body.session_id as string;
      await waitFor('waiting for approval', async () =>
        (await svc.call('GET', `/agent/sessions/${id}`)).body.status === 'WAITING_FOR_USER'
          ? true
          : undefined,
      );
      await svc.call('POST', `/agent/sessions/${id}/approve`);
      await waitFor('completed', async () =>
        (await svc.call('GET', `/agent/sessions/${id}`)).body.status === 'COMPLETED'
          ? true
          : undefined,
      );
      const about = svc.lines.filter((l) => l.includes(id));
      expect(about.length).toBeGreaterThan(0);
      for (const line of about) expect(JSON.parse(line), line).toMatchObject({ session: id });
    } finally {
      await svc.stop();
    }
  });
});
