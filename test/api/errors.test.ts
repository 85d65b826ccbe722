import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { createLogger } from '../../kernel/logger.ts';
import { MemoryStore } from '../../runtime/store/memory/memory-store.ts';

/** A store whose reads fail the way ioredis fails them. */
class FailingStore extends MemoryStore {
  failure = new Error('Command timed out');
  override async getSession(): Promise<never> {
    throw this.failure;
  }
}

describe('errors at the HTTP edge', () => {
  it.each([
    ['Command timed out', 503, 'store_unavailable'],
    ['connect ECONNREFUSED 127.0.0.1:6379', 503, 'store_unavailable'],
    ['undefined is not a function', 500, 'internal'],
  ])(
    '"%s" → %i %s, masked, with a correlation id in the answer and the log',
    async (message, status, code) => {
      const store = new FailingStore();
      store.failure = new Error(message);
      const lines: string[] = [];
      const app = createApp({
        store,
        logger: createLogger({ level: 'info', write: (l) => lines.push(l) }),
      });
      const res = await app.request('/agent/sessions/01JAAAAAAAAAAAAAAAAAAAAAAA');
      expect(res.status).toBe(status);
      const body = (await res.json()) as {
        error: { code: string; message: string; correlation_id: string };
      };
      expect(body.error.code).toBe(code);
      expect(JSON.stringify(body)).not.toContain(message);
      expect(lines.some((l) => l.includes(body.error.correlation_id) && l.includes(message))).toBe(
        true,
      );
    },
  );
});
