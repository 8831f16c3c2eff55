// Compiles only src/storage (other engineers' files may not compile at a given moment) into a temp directory,
// for the child processes and the spool-check CLI that use plain JS.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

let built: string | null = null;

/** Returns the directory holding the compiled storage modules (dist/storage layout). */
export function buildStorageDist(): string {
  if (built) return built;
  const out = mkdtempSync(path.join(os.tmpdir(), 'spool-dist-'));
  const root = path.resolve(__dirname, '../..');
  execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', path.join(__dirname, 'tsconfig.child.json'), '--outDir', out], {
    cwd: root,
    stdio: 'pipe',
  });
  process.on('exit', () => rmSync(out, { recursive: true, force: true }));
  built = path.join(out, 'storage');
  return built;
}

/** Environment for child processes using the temp build: modules resolve from the repository's node_modules. */
export function childEnv(): NodeJS.ProcessEnv {
  const dist = buildStorageDist();
  return { ...process.env, SPOOL_STORAGE_DIST: dist, NODE_PATH: path.resolve(__dirname, '../../node_modules') };
}
