import { describe, expect, it } from 'vitest';
import { ulid } from 'ulid';
import { TRANSCRIPT_CAP } from '../../../../runtime/store/records.ts';
import type { StoreHarness } from './harness.ts';
import { eachHarness, sessionMakers, TTL } from './helpers.ts';

/**
 * What a session's work keeps outside the snapshot: usage, transcripts and
 * artifacts, their writes fenced like a commit.
 */
export function workRecordsContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { h, store } = eachHarness(factory);

    const { claimed } = sessionMakers(() => store);

    it('usage accumulates over calls; one call without a known price makes the cost null for good', async () => {
      const { id, lease } = await claimed();
      expect(await store.getUsage(id)).toEqual({
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        costMicros: 0,
      });
      expect(await store.getUsage(ulid())).toEqual({
        calls: 0,
        inputTokens: 0,
        outputTokens: 0,
        costMicros: 0,
      });
      expect(
        await store.addUsage(id, lease, {
          calls: 1,
          inputTokens: 100,
          outputTokens: 20,
          costMicros: 150.4,
        }),
      ).toEqual({ kind: 'ok', released: false });
      expect(
        await store.addUsage(id, lease, {
          calls: 2,
          inputTokens: 50,
          outputTokens: 5,
          costMicros: 10,
        }),
      ).toEqual({ kind: 'ok', released: false });
      expect(await store.getUsage(id)).toEqual({
        calls: 3,
        inputTokens: 150,
        outputTokens: 25,
        costMicros: 160,
      });
      await store.addUsage(id, lease, {
        calls: 1,
        inputTokens: 1,
        outputTokens: 1,
        costMicros: null,
      });
      await store.addUsage(id, lease, { calls: 1, inputTokens: 1, outputTokens: 1, costMicros: 5 });
      expect(await store.getUsage(id)).toEqual({
        calls: 5,
        inputTokens: 152,
        outputTokens: 27,
        costMicros: null,
      });
    });

    it('transcripts append per role, oldest first, keeping the newest TRANSCRIPT_CAP', async () => {
      const { id, lease } = await claimed();
      expect(await store.getTranscript(id, 'coder')).toEqual([]);
      const m1 = { role: 'user', content: 'hi\nthere', meta: { n: 1, list: [1, 'x', null] } };
      expect(await store.appendTranscript(id, lease, 'coder', [m1, 'two'])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.appendTranscript(id, lease, 'coder', [3])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.appendTranscript(id, lease, 'reviewer', [{ r: 1 }])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.appendTranscript(id, lease, 'reviewer', [])).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(await store.getTranscript(id, 'coder')).toEqual([m1, 'two', 3]);
      expect(await store.getTranscript(id, 'reviewer')).toEqual([{ r: 1 }]);
      await expect(store.appendTranscript(id, lease, 'Bad Role', [1])).rejects.toThrow();
      await expect(store.getTranscript(id, '../x')).rejects.toThrow();
      // Over the cap in one append: the oldest go, from the earlier appends too.
      const many = Array.from({ length: TRANSCRIPT_CAP + 3 }, (_, i) => ({ i }));
      await store.appendTranscript(id, lease, 'coder', many);
      const got = await store.getTranscript(id, 'coder');
      expect(got).toHaveLength(TRANSCRIPT_CAP);
      expect(got[0]).toEqual({ i: 3 });
      expect(got.at(-1)).toEqual({ i: TRANSCRIPT_CAP + 2 });
      await store.appendTranscript(id, lease, 'coder', ['last']);
      const after = await store.getTranscript(id, 'coder');
      expect(after).toHaveLength(TRANSCRIPT_CAP);
      expect(after[0]).toEqual({ i: 4 });
      expect(after.at(-1)).toBe('last');
      expect(await store.getTranscript(id, 'reviewer')).toEqual([{ r: 1 }]);
    });

    it('artifacts are set, overwritten by name, and read back together', async () => {
      const { id, lease } = await claimed();
      expect(await store.getArtifacts(id)).toEqual({});
      expect(await store.putArtifacts(id, lease, { sandbox: 'sb-1', base: 'abc' })).toEqual({
        kind: 'ok',
        released: false,
      });
      expect(
        await store.putArtifacts(id, lease, { sandbox: 'sb-2', diff: 'diff --git a b\n+x' }),
      ).toEqual({ kind: 'ok', released: false });
      expect(await store.putArtifacts(id, lease, {})).toEqual({ kind: 'ok', released: false });
      expect(await store.getArtifacts(id)).toEqual({
        sandbox: 'sb-2',
        base: 'abc',
        diff: 'diff --git a b\n+x',
      });
    });

    it('bookkeeping writes are fenced after a takeover, and not_found for an unknown session', async () => {
      const { id, lease } = await claimed('n1');
      await store.addUsage(id, lease, { calls: 1, inputTokens: 1, outputTokens: 1, costMicros: 1 });
      await store.appendTranscript(id, lease, 'coder', ['kept']);
      await store.putArtifacts(id, lease, { sandbox: 'sb-1' });
      await h.advance(TTL + 50);
      await store.takeReady(10, TTL);
      expect((await store.claim(id, 'n2', TTL)).kind).toBe('claimed');
      const before = (await store.getSession(id))!.fenced_writes;
      const statsBefore = (await store.stats()).fenced_writes;
      expect(
        await store.addUsage(id, lease, {
          calls: 1,
          inputTokens: 9,
          outputTokens: 9,
          costMicros: null,
        }),
      ).toEqual({ kind: 'fenced' });
      expect(await store.appendTranscript(id, lease, 'coder', ['zombie'])).toEqual({
        kind: 'fenced',
      });
      expect(await store.putArtifacts(id, lease, { sandbox: 'zombie' })).toEqual({
        kind: 'fenced',
      });
      expect((await store.getSession(id))!.fenced_writes).toBe(before + 3);
      expect((await store.stats()).fenced_writes).toBeGreaterThanOrEqual(statsBefore + 3);
      expect(await store.getUsage(id)).toEqual({
        calls: 1,
        inputTokens: 1,
        outputTokens: 1,
        costMicros: 1,
      });
      expect(await store.getTranscript(id, 'coder')).toEqual(['kept']);
      expect(await store.getArtifacts(id)).toEqual({ sandbox: 'sb-1' });
      const ghost = ulid();
      expect(
        await store.addUsage(ghost, lease, {
          calls: 1,
          inputTokens: 1,
          outputTokens: 1,
          costMicros: 1,
        }),
      ).toEqual({ kind: 'not_found' });
      expect(await store.appendTranscript(ghost, lease, 'coder', ['x'])).toEqual({
        kind: 'not_found',
      });
      expect(await store.putArtifacts(ghost, lease, { a: 'b' })).toEqual({ kind: 'not_found' });
      expect(await store.getTranscript(ghost, 'coder')).toEqual([]);
      expect(await store.getArtifacts(ghost)).toEqual({});
    });
  });
}
