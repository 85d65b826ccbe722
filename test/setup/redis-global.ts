/**
 * Vitest globalSetup: finds one real Redis for the whole run and provides its
 * URL to every test file as `inject('redisUrl')`. Tests never skip for lack of
 * Redis: a green run must mean the Redis adapter was exercised.
 */
import type { TestProject } from 'vitest/node';
import { findRedis, type Teardown } from '../support/redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<Teardown> {
  const found = await findRedis();
  project.provide('redisUrl', found.url);
  return found.teardown;
}
