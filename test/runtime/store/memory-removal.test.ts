/**
 * Removal in the embedded store, seen from its state: after a removal no
 * map, set or queue of the store (admission's too) names the session.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import { fullSession } from './contract/removal.ts';

describe('removal in the embedded store', () => {
  it('leaves nothing in its state naming the session, and keeps the other sessions', async () => {
    const store = new MemoryStore({ clock: () => 1_700_000_000_000 });
    const { id, lease } = await fullSession(store, { end: { release: false } });
    const kept = await fullSession(store);
    const parked = await fullSession(store, { userId: 'u2' });
    await store.setRunning(parked.id, 'u2', false);
    expect((await store.admit(parked.id, 'u2', 0)).admitted).toBe(false);
    // Given up with a requeue after its last commit: on the ready queue, with a deadline.
    await store.release(id, lease, true);
    const before = store.dump();
    for (const x of [id, parked.id, kept.id]) expect(before).toContain(x);

    expect(await store.removeSession(id)).toEqual({ kind: 'removed' });
    expect(await store.removeSession(parked.id)).toEqual({ kind: 'removed' });
    const after = store.dump();
    expect(after).not.toContain(id);
    expect(after).not.toContain(parked.id);
    expect(after).toContain(kept.id);
  });
});
