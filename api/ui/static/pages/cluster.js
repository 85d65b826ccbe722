// @ts-check
/**
 * `#/cluster` (admins): the nodes with a recent heartbeat and the sessions
 * each runs, with the lease epoch each session is held under; refreshed
 * every 2 s while visible.
 */
import { api } from '../api.js';
import { h, replace, setText, every, reconcile, messageOf, formatInt } from '../dom.js';

/**
 * @typedef {{id: string, address: string, version: string, started_at: string, heartbeat_at: string, heartbeat_age_ms: number, active_sessions: number, sessions: string[]}} ClusterNode
 */

/** @type {import('../app.js').Page} */
export function clusterPage(root, { me, setTitle }) {
  setTitle('Cluster');
  if (me.role !== 'admin') {
    replace(
      root,
      h('h1', { tabindex: -1 }, 'Cluster'),
      h(
        'p',
        { class: 'notice' },
        `Only admins see the cluster. You are signed in as ${me.name} (${me.role}).`,
      ),
    );
    return;
  }
  const tbody = h('tbody');
  const empty = h('p', { class: 'muted', hidden: true }, 'No node has sent a heartbeat recently.');
  const notice = h('p', { class: 'form-error', 'aria-live': 'polite' });
  replace(
    root,
    h('h1', { tabindex: -1 }, 'Cluster'),
    h(
      'p',
      { class: 'lead' },
      'Nodes share the sessions by lease: each session runs on one node at a time, under an epoch that grows with every claim.',
    ),
    notice,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'list' },
        h('caption', { class: 'visually-hidden' }, 'Nodes'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Node', 'Address', 'Version', 'Heartbeat age', 'Active sessions', 'Sessions'].map(
              (c) => h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        tbody,
      ),
    ),
    empty,
  );

  const refresh = async () => {
    try {
      const [{ nodes }, running] = await Promise.all([
        api.get('/agent/nodes'),
        api.get('/agent/sessions?status=RUNNING&limit=500'),
      ]);
      /** @type {Map<string, number>} */
      const epochs = new Map();
      for (const s of running.sessions) if (s.owner) epochs.set(s.id, s.owner.epoch);
      setText(notice, '');
      reconcile(
        tbody,
        /** @type {ClusterNode[]} */ (nodes),
        (n) => n.id,
        (n, row) => nodeRow(n, row, epochs),
      );
      empty.hidden = nodes.length > 0;
    } catch (err) {
      setText(notice, `Could not load the cluster: ${messageOf(err)}`);
    }
  };
  return every(refresh, 2000);
}

/** @param {ClusterNode} n @param {HTMLElement | undefined} row @param {Map<string, number>} epochs */
function nodeRow(n, row, epochs) {
  row ??= h(
    'tr',
    { 'data-testid': 'node-row', 'data-node-id': n.id },
    h('th', { scope: 'row', class: 'mono' }),
    h('td', { class: 'mono' }),
    h('td', {}),
    h('td', { class: 'num' }),
    h('td', { class: 'num' }),
    h('td', {}),
  );
  const [id, address, version, age, active, sessions] = /** @type {HTMLElement[]} */ ([
    ...row.children,
  ]);
  if (!id || !address || !version || !age || !active || !sessions) return row;
  setText(id, n.id);
  setText(address, n.address);
  setText(version, n.version);
  setText(age, `${(n.heartbeat_age_ms / 1000).toFixed(1)} s`);
  setText(active, formatInt(n.active_sessions));
  const key = JSON.stringify(n.sessions.map((s) => [s, epochs.get(s)]));
  if (sessions.dataset['key'] !== key) {
    sessions.dataset['key'] = key;
    if (!n.sessions.length) replace(sessions, h('span', { class: 'muted' }, 'none'));
    else
      replace(
        sessions,
        h(
          'ul',
          { class: 'plain' },
          ...n.sessions.map((s) => {
            const epoch = epochs.get(s);
            return h(
              'li',
              {},
              h(
                'a',
                {
                  href: `#/sessions/${encodeURIComponent(s)}`,
                  class: 'mono',
                  'data-session-id': s,
                },
                s,
              ),
              epoch === undefined ? null : ` (epoch ${epoch})`,
            );
          }),
        ),
      );
  }
  return row;
}
