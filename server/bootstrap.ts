/**
 * The built-in admin and its first token. Every node runs this at start; the
 * store makes the outcome the same whichever node gets there first.
 */
import { ADMIN_USER_ID } from '../api/principal.ts';
import type { Logger } from '../kernel/logger.ts';
import type { StoreClock, TokenRecords, UserRecords } from '../runtime/store/port.ts';
import { hashToken, newToken, tokenPrefix } from '../api/tokens.ts';

export interface BootstrapOptions {
  /** ADMIN_TOKEN: becomes the admin's token (replacing an earlier ADMIN_TOKEN). */
  adminToken: string | undefined;
  /** The server listens beyond loopback: without ADMIN_TOKEN, the admin needs a generated one. */
  needsToken: boolean;
  logger: Logger;
  /**
   * Shows the generated token to the operator, once. Not the structured log:
   * log lines are shipped and kept, this line is meant to be read and copied.
   */
  announce?: (line: string) => void;
}

const ENV_TOKEN_ID = 'admin-env';

export async function bootstrapAdmin(
  store: StoreClock & UserRecords & TokenRecords,
  opts: BootstrapOptions,
): Promise<void> {
  if (!(await store.getUser(ADMIN_USER_ID))) {
    await store.putUser({
      id: ADMIN_USER_ID,
      name: 'admin',
      role: 'admin',
      createdAt: await store.now(),
    });
  }
  if (opts.adminToken) {
    const hash = await hashToken(opts.adminToken);
    const current = (await store.listTokens(ADMIN_USER_ID)).find((t) => t.id === ENV_TOKEN_ID);
    if (current?.hash !== hash) {
      await store.putToken({
        id: ENV_TOKEN_ID,
        userId: ADMIN_USER_ID,
        name: 'ADMIN_TOKEN',
        hash,
        prefix: tokenPrefix(opts.adminToken),
        createdAt: await store.now(),
      });
      opts.logger.info('admin token set from ADMIN_TOKEN');
    }
    return;
  }
  if (!opts.needsToken) return;
  const token = newToken();
  const stored = await store.putToken(
    {
      id: `admin-first`,
      userId: ADMIN_USER_ID,
      name: 'generated at first start',
      hash: await hashToken(token),
      prefix: tokenPrefix(token),
      createdAt: await store.now(),
    },
    { onlyIfUserHasNone: true },
  );
  if (stored) {
    (opts.announce ?? ((l) => console.error(l)))(
      `swe-agent: ADMIN TOKEN (shown once, store it now; revoke with DELETE /agent/users/admin/tokens/admin-first): ${token}`,
    );
    opts.logger.warn(
      'generated the first admin token and printed it once on stderr; set ADMIN_TOKEN to choose your own',
    );
  } else {
    opts.logger.info('admin already has a token; none generated');
  }
}
