import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

describe('generated option reference', () => {
  it('conf/spool.conf and the README table match the option table', () => {
    const root = path.join(__dirname, '..', '..');
    // Rebuild so the check never reads a stale dist/ (tsc emits even when another module has type errors;
    // the type check itself is npm run typecheck's job).
    try {
      execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
    } catch {
      /* emitted anyway */
    }
    expect(() =>
      execFileSync('node', ['scripts/gen-config-docs.js', '--check'], { cwd: root, stdio: 'pipe' }),
    ).not.toThrow();
  });
});
