// Replication commands against redis-server 7 on a master without replicas: argument errors byte for byte
// (REPLICAOF, WAIT, REPLCONF, PSYNC), ROLE and WAIT's replies with no replica, REPLICAOF NO ONE on a master,
// and writes in MULTI/EXEC unaffected. Links between servers are in test/integration/replication.test.ts.
import { differentialSuite } from '../helpers/differential';

differentialSuite([
  {
    name: 'REPLICAOF / SLAVEOF argument errors, NO ONE on a master',
    steps: [
      'REPLICAOF NO ONE',
      'SLAVEOF no one',
      'REPLICAOF 127.0.0.1 notaport',
      'REPLICAOF 127.0.0.1 70000',
      'REPLICAOF 127.0.0.1 -1',
      'REPLICAOF 127.0.0.1',
      'SLAVEOF a b c',
    ],
  },
  {
    name: 'WAIT without replicas, and its errors',
    steps: ['XADD s 1-1 f v', 'WAIT 0 0', 'WAIT 1 10', 'WAIT x 0', 'WAIT 0 x', 'WAIT 0 -1', 'WAIT 1', 'MULTI', 'XADD s 2-1 f v', 'WAIT 1 0', 'EXEC'],
  },
  {
    name: 'REPLCONF options and errors, ROLE of a lone master',
    steps: [
      'REPLCONF listening-port 6380',
      'REPLCONF capa eof capa psync2',
      'REPLCONF ip-address 127.0.0.1',
      'REPLCONF listening-port',
      'REPLCONF listening-port abc',
      'REPLCONF nosuch 1',
      'REPLCONF',
      'ROLE',
      'ROLE x',
      'PSYNC ? notanumber',
      'PSYNC x',
    ],
  },
]);
