// Protected mode, as Redis's: with no password set, only loopback clients may connect; others get one error
// line and are disconnected. Kept apart from the listener so the decision is unit-tested on its own.

import type { ConfigStore } from '../config/configStore';

export function isLoopback(address: string | undefined): boolean {
  if (!address) return true; // a Unix socket or an already closed connection
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** True when a client from `remoteAddress` must be refused (protected-mode yes, no requirepass, not loopback). */
export function protectedModeRefuses(config: ConfigStore, remoteAddress: string | undefined): boolean {
  return config.getBoolean('protected-mode') && config.get('requirepass') === '' && !isLoopback(remoteAddress);
}
