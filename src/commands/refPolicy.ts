// The KEEPREF | DELREF | ACKED keyword (Redis 8.2) as XDELEX, XACKDEL, XADD and XTRIM read it.

import { CommandError, Err } from '../errors';
import { keywordEquals } from './args';
import type { RefPolicy } from '../streams/references';

/** The policy `arg` names, or null when it is not one of the three keywords. */
export function refPolicyOf(arg: Buffer): RefPolicy | null {
  if (keywordEquals(arg, 'KEEPREF')) return 'keepref';
  if (keywordEquals(arg, 'DELREF')) return 'delref';
  if (keywordEquals(arg, 'ACKED')) return 'acked';
  return null;
}

/** A policy keyword after one was already given: the three are mutually exclusive (a syntax error in Redis 8.2). */
export function checkSinglePolicy(current: RefPolicy | null): void {
  if (current !== null) throw new CommandError(Err.syntax);
}
