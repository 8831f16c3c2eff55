// Cluster commands on a server started without cluster-enabled (Redis's default): every one answers "cluster
// support disabled"; HELLO says standalone; SELECT works. Plus COMMAND INFO / DOCS of the cluster commands,
// which clients such as redis-py read to find key positions.
import { differentialSuite } from '../helpers/differential';
import { maskKeys } from '../helpers/mask';

const SUBCOMMANDS = [
  'addslots', 'addslotsrange', 'bumpepoch', 'count-failure-reports', 'countkeysinslot', 'delslots', 'delslotsrange', 'failover',
  'flushslots', 'forget', 'getkeysinslot', 'help', 'info', 'keyslot', 'links', 'meet', 'myid', 'nodes', 'replicas', 'reset',
  'saveconfig', 'set-config-epoch', 'setslot', 'shards', 'slaves', 'slots',
];

differentialSuite([
  {
    name: 'cluster commands without cluster mode',
    steps: [
      'CLUSTER INFO', 'CLUSTER SLOTS', 'CLUSTER NODES', 'CLUSTER KEYSLOT foo', 'CLUSTER HELP', 'CLUSTER ADDSLOTS 1', 'CLUSTER NOSUCH', 'CLUSTER',
      'CLUSTER KEYSLOT', 'ASKING', 'READONLY', 'READWRITE', 'READONLY x', 'SELECT 1', 'XADD {a}b 1-1 f v', 'SELECT 0',
      { cmd: 'HELLO 3', mask: [maskKeys('id')] }, 'INFO cluster',
    ],
  },
  { name: 'COMMAND INFO of ASKING, READONLY, READWRITE and the CLUSTER subcommands', steps: ['COMMAND INFO asking readonly readwrite', ...SUBCOMMANDS.map((s) => `COMMAND INFO cluster|${s}`)] },
  { name: 'COMMAND DOCS of ASKING, READONLY, READWRITE and CLUSTER SETSLOT', steps: ['COMMAND DOCS asking readonly readwrite', 'COMMAND DOCS cluster|setslot', 'COMMAND DOCS cluster|addslotsrange'] },
]);
