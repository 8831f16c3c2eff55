// The native mmap binding of @riaskov/mmap-io, loaded without its JavaScript wrapper.
//
// Why: the package's entry point finds its compiled addon through @mapbox/node-pre-gyp, which loads about a
// hundred modules (npmlog, gauge, semver...) to compute one path; that was a few hundred milliseconds of every
// start, before recovery even began. The addon sits at a path fixed by the package's `binary` settings (or at
// node-gyp's default when built from source), so it is required from there; any other layout falls back to the
// package's own loader. Spool uses map() and advise() only (the wrapper's only addition is a sync() overload).

import * as path from 'node:path';

export interface MmapBinding {
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  advise(buffer: Buffer, advise: number): void;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
  readonly MADV_SEQUENTIAL: number;
  readonly MADV_RANDOM: number;
}

function load(): MmapBinding {
  let root: string | null = null;
  try {
    root = path.dirname(require.resolve('@riaskov/mmap-io/package.json'));
  } catch {
    // no package.json to resolve: the package's loader below says what is missing
  }
  if (root !== null) {
    const abi = `node-v${process.versions.modules}-${process.platform}-${process.arch}`;
    for (const file of [path.join(root, 'build', 'binding', 'Release', abi, 'mmap_io.node'), path.join(root, 'build', 'Release', 'mmap_io.node')]) {
      try {
        return require(file) as MmapBinding;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND' && (e as NodeJS.ErrnoException).code !== 'ERR_DLOPEN_FAILED') throw e;
      }
    }
  }
  return require('@riaskov/mmap-io') as MmapBinding;
}

export const mmap: MmapBinding = load();
