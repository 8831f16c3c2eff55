// Wires replication into a started server: how the master link runs its master's commands (through the
// dispatcher, as the master client, replies discarded), how full resynchronizations are encoded and loaded
// (fullSync.ts), and `replicaof` from the configuration at start-up.

import { ReplyWriter } from '../../protocol/replyWriter';
import { Request } from '../../protocol/request';
import { MasterLink } from './masterLink';
import type { FullSyncCodec } from './replication';
import type { ClientState } from '../clientState';
import type { Dispatcher } from '../dispatcher';
import type { ServerState } from '../serverState';
import type { Logger } from '../persistence';

export function attachReplication(state: ServerState, dispatcher: Dispatcher, log: Logger, codec: FullSyncCodec): void {
  const replication = state.replication;
  replication.fullSync = codec;
  const discarded = new ReplyWriter(2);
  const run = (client: ClientState, args: Buffer[]): void => {
    dispatcher.execute(client, Request.of(args), discarded);
    discarded.take();
    state.takeTicket();
  };
  const execute = (client: ClientState, args: Buffer[]): Promise<void> | void => {
    // The room a write needs is estimated from its size, as for a client's request (RESP framing included).
    let bytes = 16;
    for (const a of args) bytes += a.length + 16;
    const ready = dispatcher.whenReady(client, Request.of(args), bytes);
    if (ready === null) return run(client, args);
    return ready.then(
      () => run(client, args),
      () => run(client, args),
    );
  };
  replication.connectMaster = (host, port) =>
    new MasterLink(host, port, {
      server: state,
      replication,
      execute,
      loadSnapshot: (rdb, client) => codec.load(state, rdb, (args) => execute(client, args)),
      log: (level, message) => log(level, message),
    });
  const configured = state.config.get('replicaof').trim();
  if (configured !== '') {
    const [host, port] = configured.split(/\s+/);
    replication.becomeReplica(host, Number(port));
  }
}
