// The TLS listener (`tls-port`): node:tls on the `bind` addresses, feeding the same Connection class as the
// TCP listener (a TLSSocket is a net.Socket: a duplex stream with the same address fields and socket options).
// Certificates are read once at start-up. `tls-auth-clients` as Redis: yes (a client certificate signed by
// tls-ca-cert-file is required), optional (checked when the client sends one), no (not asked for).

import { promises as fsp } from 'node:fs';
import tls from 'node:tls';
import type net from 'node:net';
import type { ConfigStore } from '../config/configStore';

export class TlsConfigError extends Error {}

async function readPem(option: string, file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (err) {
    throw new TlsConfigError(`${option} '${file}': ${(err as Error).message}`);
  }
}

/** The tls.createServer options for the configuration (throws TlsConfigError with the option at fault). */
export async function tlsServerOptions(config: ConfigStore): Promise<tls.TlsOptions> {
  const certFile = config.get('tls-cert-file');
  const keyFile = config.get('tls-key-file');
  const caFile = config.get('tls-ca-cert-file');
  const authClients = config.get('tls-auth-clients');
  if (!certFile || !keyFile) throw new TlsConfigError('tls-port needs tls-cert-file and tls-key-file');
  if (authClients !== 'no' && !caFile)
    throw new TlsConfigError(`tls-auth-clients ${authClients} needs tls-ca-cert-file (or set tls-auth-clients no)`);
  const options: tls.TlsOptions = {
    cert: await readPem('tls-cert-file', certFile),
    key: await readPem('tls-key-file', keyFile),
    requestCert: authClients !== 'no',
    // optional: the handshake completes without a certificate; a bad one is refused in acceptTls().
    rejectUnauthorized: authClients === 'yes',
  };
  if (caFile) options.ca = await readPem('tls-ca-cert-file', caFile);
  try {
    tls.createSecureContext(options); // a key that does not match the certificate fails here, at start-up
  } catch (err) {
    throw new TlsConfigError(`tls-cert-file/tls-key-file: ${(err as Error).message}`);
  }
  return options;
}

/** Starts a TLS listener per address; `onConnection` gets each socket once its handshake is done. */
export async function listenTls(
  config: ConfigStore,
  addresses: string[],
  onConnection: (socket: net.Socket) => void,
): Promise<tls.Server[]> {
  const options = await tlsServerOptions(config);
  const optional = config.get('tls-auth-clients') === 'optional';
  const servers: tls.Server[] = [];
  let port = config.getNumber('tls-port');
  try {
    for (const address of addresses) {
      const server = tls.createServer(options, (socket) => {
        if (optional && !socket.authorized && socket.getPeerCertificate()?.subject) {
          socket.destroy(); // a certificate was given and does not verify
          return;
        }
        onConnection(socket);
      });
      // A failed handshake (plain-text client, wrong CA) only concerns that socket; node destroys it.
      server.on('tlsClientError', () => undefined);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host: address, backlog: 511 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      const info = server.address();
      if (info && typeof info === 'object') port = info.port;
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    const e = err as NodeJS.ErrnoException;
    e.message = `tls-port ${config.getNumber('tls-port')}: ${e.message}`;
    throw e;
  }
  return servers;
}
