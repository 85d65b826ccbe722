import { describe, expect, it } from 'vitest';
import { Waiters } from '../../kernel/waiters.ts';

describe('Waiters', () => {
  it('releases the waiters whose mark is reached, keeps the others, and rejects the rest together', async () => {
    const w = new Waiters();
    const settled: string[] = [];
    const track = (name: string, p: Promise<void>) =>
      p.then(
        () => settled.push(`${name} ok`),
        (e: Error) => settled.push(`${name} ${e.message}`),
      );
    const a = track('a', w.wait(1));
    const b = track('b', w.wait(3));
    const c = track('c', w.wait());
    w.release(2);
    await Promise.all([a, c]);
    expect(settled.sort()).toEqual(['a ok', 'c ok']);
    w.rejectAll(new Error('gone'));
    await b;
    expect(settled).toContain('b gone');
  });
});
