// Shared by the replication suites: bounded polling, INFO fields, and ioredis clients closed after each test.
import Redis from 'ioredis';

/** Polls `check` every `stepMs` until it returns true (a throw counts as false), at most `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 15000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** One `name:value` line of an INFO reply. */
export function infoField(info: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*?)\\r?$`, 'm').exec(info)?.[1];
}

/** ioredis clients that fail fast (no retries), disconnected together by closeAll(). */
export function clientPool(): { client(port: number): Redis; closeAll(): void } {
  const clients: Redis[] = [];
  return {
    client(port) {
      const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
      clients.push(r);
      return r;
    },
    closeAll() {
      for (const c of clients.splice(0)) c.disconnect();
    },
  };
}
