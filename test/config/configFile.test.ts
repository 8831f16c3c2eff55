import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigFileError, parseCommandLine, readConfigFile, rewriteConfigFile } from '../../src/config/configFile';
import { ConfigStore } from '../../src/config/configStore';

const dir = mkdtempSync(path.join(tmpdir(), 'spool-conf-'));

describe('config files', () => {
  it('reads directives, quotes, units and includes', () => {
    writeFileSync(path.join(dir, 'extra.conf'), 'stream-node-max-bytes 8kb\n');
    const main = path.join(dir, 'main.conf');
    writeFileSync(main, '# comment\nport 7000\n  bind "127.0.0.1"\ninclude extra.conf\nappendfsync ALWAYS\n');
    expect(readConfigFile(main)).toEqual([
      ['port', '7000'],
      ['bind', '127.0.0.1'],
      ['stream-node-max-bytes', '8kb'],
      ['appendfsync', 'ALWAYS'],
    ]);
    const config = new ConfigStore(new Map(readConfigFile(main)));
    expect(config.get('stream-node-max-bytes')).toBe('8192');
    expect(config.get('appendfsync')).toBe('always');
  });

  it('names the line of a bad directive', () => {
    const bad = path.join(dir, 'bad.conf');
    writeFileSync(bad, 'port 1\nnonsense 2\n');
    expect(() => readConfigFile(bad)).toThrow(/line 2/);
    expect(() => readConfigFile(bad)).toThrow(ConfigFileError);
  });

  it('lets the command line override the file', () => {
    const main = path.join(dir, 'cli.conf');
    writeFileSync(main, 'port 7000\ndir /tmp/a\n');
    const { configFile, options } = parseCommandLine([main, '--port', '7001', '--appendfsync', 'no']);
    expect(configFile).toBe(main);
    expect(options.get('port')).toBe('7001');
    expect(options.get('dir')).toBe('/tmp/a');
    expect(options.get('appendfsync')).toBe('no');
  });

  it('rewrites changed options and keeps comments', async () => {
    const file = path.join(dir, 'rewrite.conf');
    writeFileSync(file, '# keep me\nappendfsync everysec\n');
    const config = new ConfigStore(new Map(readConfigFile(file)));
    config.trySet('appendfsync', 'always');
    config.trySet('timeout', '30');
    await rewriteConfigFile(file, config);
    const text = readFileSync(file, 'latin1');
    expect(text).toContain('# keep me\nappendfsync always\n');
    expect(text).toContain('timeout 30');
  });

  it('leaves replicaof out in cluster mode, as Redis (a cluster replica\'s master comes from its topology)', async () => {
    const file = path.join(dir, 'cluster.conf');
    writeFileSync(file, 'cluster-enabled yes\nreplicaof 10.0.0.1 7000\ntimeout 5\n');
    const config = new ConfigStore(new Map(readConfigFile(file)));
    config.trySet('replicaof', '127.0.0.1 7001', true);
    await rewriteConfigFile(file, config);
    const text = readFileSync(file, 'latin1');
    expect(text.startsWith('cluster-enabled yes\ntimeout 5\n')).toBe(true);
    expect(text).not.toMatch(/replicaof/);
  });

  it('refuses invalid values with the reason', () => {
    expect(() => new ConfigStore(new Map([['appendfsync', 'sometimes']]))).toThrow(/appendfsync/);
    expect(() => new ConfigStore(new Map([['port', 'x']]))).toThrow(/integer/);
  });
});
