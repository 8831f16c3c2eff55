// Every command family Spool serves. Adding a family: export a CommandSpec[] from its module and list it here.

import type { CommandSpec } from './types';
import { connectionCommands } from './connection';
import { clientCommands } from './client';
import { keyspaceCommands } from './keyspace';
import { transactionCommands } from './transactions';
import { infoCommands } from './info';
import { serverAdminCommands } from './serverAdmin';
import { latencyCommands } from './latency';
import { memoryCommands } from './memory';
import { streamWriteCommands } from './streamWrite';
import { streamReadCommands } from './streamRead';
import { streamGroupCommands } from './streamGroups';
import { streamInfoCommands } from './streamInfo';
import { streamConfigCommands } from './streamConfig';
import { streamDeleteCommands } from './streamDelete';
import { streamNackCommands } from './streamNack';
import { streamIdmpCommands } from './streamIdmp';
import { debuggingCommands } from './debugging';
import { clusterCommands } from './cluster';
import { pubsubCommands } from './pubsub';
import { dumpRestoreCommands } from './dumpRestore';
import { replicationCommands } from './replication';
import { saveCommands } from './save';
import { migrateCommands } from './migrate';
import { backupCommands } from './backup';

export const ALL_COMMANDS: readonly CommandSpec[] = [
  ...connectionCommands,
  ...clientCommands,
  ...keyspaceCommands,
  ...transactionCommands,
  ...infoCommands,
  ...serverAdminCommands,
  ...latencyCommands,
  ...memoryCommands,
  ...streamWriteCommands,
  ...streamReadCommands,
  ...streamGroupCommands,
  ...streamInfoCommands,
  ...streamConfigCommands,
  ...streamDeleteCommands,
  ...streamNackCommands,
  ...streamIdmpCommands,
  ...debuggingCommands,
  ...clusterCommands,
  ...pubsubCommands,
  ...dumpRestoreCommands,
  ...replicationCommands,
  ...saveCommands,
  ...migrateCommands,
  ...backupCommands,
];
