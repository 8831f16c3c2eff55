// Pub/Sub against redis-server 7.0.15, byte for byte in RESP2 and RESP3: confirmations and their counts,
// message / pmessage / smessage shapes, RESP2 subscribed mode (what it refuses, PING's shape), RESP3 pushes with
// any command allowed, unsubscribing from nothing, binary names, MULTI/EXEC, pipelining, CLIENT REPLY OFF,
// RESET, CLIENT LIST / KILL TYPE pubsub, INFO counts, PUBSUB introspection and a subscriber going away.
// Orders that are Redis's hash-table order (UNSUBSCRIBE of several, PUBSUB CHANNELS) are sorted or avoided.
import { differentialSuite, pipeline, type Script } from '../helpers/differential';
import { nodeText } from '../helpers/resp';
import { maskHelloId, sortAt, sortPairsUnderKey, type Masker } from '../helpers/mask';

/** CLIENT LIST / INFO: per line only flags and the subscription counts, lines sorted (ids and ports differ). */
const subscriptionFields: Masker = (node) => {
  const text = nodeText(node);
  if (text === null) return;
  const lines = text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => ['flags', 'sub', 'psub', 'ssub'].map((k) => new RegExp(`(?:^| )(${k}=\\S*)`).exec(l)?.[1] ?? `${k}?`).join(' '))
    .sort();
  node.header = node.bytes = Buffer.from(`+(${node.type}) ${lines.join(' | ')}\r\n`, 'latin1');
};

/** INFO stats: only its pubsub lines. */
const pubsubInfo: Masker = (node) => {
  const text = nodeText(node) ?? '';
  const lines = text.split('\r\n').filter((l) => l.startsWith('pubsub'));
  node.header = node.bytes = Buffer.from(`+(${node.type}) ${lines.join(' ')}\r\n`, 'latin1');
};

const PUBSUB_COMMANDS = ['subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'publish', 'pubsub', 'ssubscribe', 'sunsubscribe', 'spublish'];
const PUBSUB_SUBCOMMANDS = ['channels', 'numsub', 'numpat', 'shardchannels', 'shardnumsub', 'help'];

/** HELLO 3 with the client id masked. */
const HELLO3 = { cmd: 'HELLO 3', mask: [maskHelloId] };

const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x20, 0x2a]);
const binaryPattern = Buffer.from([0x00, 0xff, 0x2a]);

const scripts: Script[] = [
  {
    name: 'SUBSCRIBE and PSUBSCRIBE: confirmations, message and pmessage, unsubscribing',
    steps: [
      { c: 1, cmd: 'PING' },
      { c: 0, cmd: 'SUBSCRIBE news' },
      { c: 0, cmd: 'PSUBSCRIBE n*' },
      { c: 1, cmd: 'PUBLISH news hello' },
      { c: 0, collect: 2 },
      { c: 1, cmd: 'PUBLISH nothing x' },
      { c: 0, collect: 1 },
      { c: 1, cmd: 'PUBLISH other y' },
      { c: 0, cmd: 'UNSUBSCRIBE news' },
      { c: 0, cmd: 'PUNSUBSCRIBE n*' },
      { c: 0, cmd: 'UNSUBSCRIBE' },
      { c: 0, cmd: 'PUNSUBSCRIBE' },
      { c: 0, cmd: 'SUNSUBSCRIBE' },
      { c: 0, cmd: 'PING' },
      { c: 1, cmd: 'PUBLISH news gone' },
    ],
  },
  {
    name: 'subscribed mode: RESP2 refuses other commands, PING answers as a message; RESP3 runs them',
    steps: [
      'SUBSCRIBE a',
      'XLEN s',
      'XADD s 1-1 f v',
      'PING',
      'PING hi',
      'ECHO x',
      'EXEC',
      'PUBSUB NUMSUB a',
      'CLIENT REPLY ON',
      { cmd: 'HELLO 2', mask: [maskHelloId] },
      'NOSUCH x',
      'XLEN',
      'UNSUBSCRIBE a',
      'PING',
      'XLEN s',
    ],
  },
  {
    name: 'unsubscribing from what was never subscribed, and from nothing at all',
    steps: [
      { cmd: 'UNSUBSCRIBE x y', replies: 2 },
      'PUNSUBSCRIBE p*',
      'SUNSUBSCRIBE s',
      'UNSUBSCRIBE',
      'PUNSUBSCRIBE',
      'SUNSUBSCRIBE',
      'PING',
      'SUBSCRIBE a',
      { cmd: 'UNSUBSCRIBE b a a', replies: 3 },
      'PING',
    ],
  },
  {
    name: 'counts: channels and patterns together, shard channels apart; duplicates confirmed',
    steps: [
      'SUBSCRIBE a',
      'PSUBSCRIBE p*',
      'SSUBSCRIBE s',
      { cmd: 'SUBSCRIBE a b', replies: 2 },
      { cmd: 'PSUBSCRIBE p* q?', replies: 2 },
      'SSUBSCRIBE s2',
      'SUNSUBSCRIBE s',
      { cmd: 'UNSUBSCRIBE a b', replies: 2 },
      { cmd: 'PUNSUBSCRIBE q? p*', replies: 2 },
      'PING',
      'SUNSUBSCRIBE',
      'PING',
    ],
  },
  {
    name: 'PUBLISH reaches every subscriber of the channel and every matching pattern, counted each',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE news' },
      { c: 0, cmd: 'PSUBSCRIBE ne[wx]?' },
      { c: 1, cmd: 'SUBSCRIBE news' },
      { c: 2, cmd: 'PSUBSCRIBE *' },
      { c: 3, cmd: 'PUBLISH news m1' },
      { c: 0, collect: 2 },
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, cmd: 'PUBLISH next m2' },
      { c: 0, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, cmd: 'PUBSUB NUMSUB news next' },
      { c: 3, cmd: 'PUBSUB NUMPAT' },
    ],
  },
  {
    name: 'SSUBSCRIBE and SPUBLISH: shard channels are their own namespace, patterns never see them',
    steps: [
      { c: 0, cmd: 'SSUBSCRIBE orders' },
      { c: 1, cmd: 'PSUBSCRIBE *' },
      { c: 2, cmd: 'SUBSCRIBE orders' },
      { c: 3, cmd: 'SPUBLISH orders o1' },
      { c: 0, collect: 1 },
      { c: 3, cmd: 'PUBLISH orders o2' },
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, cmd: 'PUBSUB SHARDCHANNELS' },
      { c: 3, cmd: 'PUBSUB SHARDCHANNELS ord*' },
      { c: 3, cmd: 'PUBSUB SHARDNUMSUB orders nope' },
      { c: 3, cmd: 'PUBSUB NUMSUB orders' },
      { c: 3, cmd: 'SPUBLISH nobody x' },
    ],
  },
  {
    name: 'PUBSUB introspection, HELP and errors; INFO stats counts',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE a b', replies: 2 },
      { c: 1, cmd: 'SUBSCRIBE a' },
      { c: 1, cmd: 'PSUBSCRIBE x* x* y?', replies: 3 },
      { c: 2, cmd: 'PUBSUB NUMSUB a b c' },
      { c: 2, cmd: 'PUBSUB NUMSUB' },
      { c: 2, cmd: 'PUBSUB NUMPAT' },
      { c: 2, cmd: 'PUBSUB CHANNELS', mask: [sortAt()] },
      { c: 2, cmd: 'PUBSUB CHANNELS a*' },
      { c: 2, cmd: 'PUBSUB CHANNELS [ab]', mask: [sortAt()] },
      { c: 2, cmd: 'PUBSUB CHANNELS z*' },
      { c: 2, cmd: 'PUBSUB SHARDCHANNELS' },
      { c: 2, cmd: 'PUBSUB SHARDNUMSUB a' },
      { c: 2, cmd: 'PUBSUB HELP' },
      { c: 2, cmd: 'PUBSUB FOO' },
      { c: 2, cmd: 'PUBSUB CHANNELS a b' },
      { c: 2, cmd: 'pubsub shardchannels a b' },
      { c: 2, cmd: 'PUBSUB NUMPAT x' },
      { c: 2, cmd: 'PUBSUB HELP x' },
      { c: 2, cmd: 'PUBSUB' },
      { c: 2, cmd: 'PUBLISH a' },
      { c: 2, cmd: 'SUBSCRIBE' },
      { c: 2, cmd: 'INFO stats', mask: [pubsubInfo] },
      { c: 1, close: true },
      { c: 2, cmd: 'PUBSUB NUMSUB a' },
      { c: 2, cmd: 'PUBSUB NUMPAT' },
      { c: 2, cmd: 'INFO stats', mask: [pubsubInfo] },
    ],
  },
  {
    name: 'binary channel names, patterns and messages',
    steps: [
      { c: 0, cmd: ['SUBSCRIBE', binary] },
      { c: 0, cmd: ['PSUBSCRIBE', binaryPattern] },
      { c: 1, cmd: ['PUBLISH', binary, Buffer.from('line\r\nnext\x00', 'latin1')] },
      { c: 0, collect: 2 },
      { c: 1, cmd: ['PUBSUB', 'NUMSUB', binary] },
      { c: 1, cmd: ['PUBSUB', 'CHANNELS', binaryPattern] },
      { c: 1, cmd: ['PUBLISH', '', ''] },
      { c: 0, cmd: ['UNSUBSCRIBE', binary] },
      { c: 0, cmd: ['PUNSUBSCRIBE', binaryPattern] },
    ],
  },
  {
    name: 'SUBSCRIBE and PUBLISH inside MULTI/EXEC; SSUBSCRIBE refused there',
    // The message to itself is written inside EXEC's array without being one of its elements (as Redis does):
    // the reader sees the array end one element early and the last element (PING's reply) as a second reply.
    steps: ['MULTI', 'SSUBSCRIBE x', 'EXEC', 'MULTI', 'SUBSCRIBE c', 'PUBLISH c m', 'PING', { cmd: 'EXEC', replies: 2 }, 'PING', 'MULTI', 'UNSUBSCRIBE', 'PING'],
  },
  {
    name: 'a subscriber publishing to its own channel gets the message before the count',
    steps: [HELLO3, 'SUBSCRIBE a', 'PUBLISH a self', 'PSUBSCRIBE a*', 'PUBLISH a twice', 'UNSUBSCRIBE a', 'PUNSUBSCRIBE', 'PUBLISH a none'],
    protocols: [2],
  },
  {
    name: 'pipelined requests around subscribing keep their order',
    steps: [
      { c: 1, cmd: 'PING' },
      pipeline(['SUBSCRIBE a', 'PING', 'XLEN s', 'PSUBSCRIBE b*', 'UNSUBSCRIBE a', 'PING', 'PUNSUBSCRIBE', 'PING', 'XLEN s']),
      { ...pipeline(['PUBLISH a 1', 'PUBLISH b 2', 'PUBLISH a 3']), c: 1 },
    ],
  },
  {
    name: 'CLIENT REPLY OFF and SKIP silence replies but not confirmations and messages',
    steps: [
      { c: 1, cmd: 'PING' },
      { c: 0, cmd: 'CLIENT REPLY OFF', replies: 0 },
      { c: 0, cmd: 'SUBSCRIBE x' },
      { c: 0, cmd: 'PING', replies: 0 },
      { c: 1, cmd: 'PUBLISH x m1' },
      { c: 0, collect: 1 },
      { c: 0, cmd: 'UNSUBSCRIBE x' },
      { c: 0, cmd: 'CLIENT REPLY ON' },
      { c: 0, cmd: 'CLIENT REPLY SKIP', replies: 0 },
      { c: 0, cmd: 'SUBSCRIBE y' },
      { c: 0, cmd: 'UNSUBSCRIBE' },
      { c: 0, cmd: 'PING' },
    ],
  },
  {
    name: 'CLIENT REPLY OFF: a RESP3 publisher subscribed to its channel still gets the message',
    steps: [HELLO3, { cmd: 'CLIENT REPLY OFF', replies: 0 }, 'SUBSCRIBE q', 'PUBLISH q me', { cmd: 'XLEN s', replies: 0 }, 'UNSUBSCRIBE q', 'CLIENT REPLY ON'],
    protocols: [2],
  },
  {
    name: 'RESET leaves subscribed mode and drops every subscription',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE a' },
      { c: 0, cmd: 'PSUBSCRIBE b*' },
      { c: 0, cmd: 'SSUBSCRIBE c' },
      { c: 0, cmd: 'RESET' },
      { c: 0, cmd: 'PING' },
      { c: 1, cmd: 'PUBLISH a x' },
      { c: 1, cmd: 'PUBLISH bb x' },
      { c: 1, cmd: 'SPUBLISH c x' },
      { c: 1, cmd: 'PUBSUB NUMPAT' },
      { c: 0, cmd: 'UNSUBSCRIBE' },
    ],
  },
  {
    name: 'CLIENT LIST flags=P and counts, TYPE pubsub and normal, CLIENT KILL TYPE pubsub',
    steps: [
      { c: 1, cmd: 'PING' },
      { c: 0, cmd: 'SUBSCRIBE a b', replies: 2 },
      { c: 0, cmd: 'PSUBSCRIBE p*' },
      { c: 0, cmd: 'SSUBSCRIBE s' },
      { c: 1, cmd: 'CLIENT LIST TYPE pubsub', mask: [subscriptionFields] },
      { c: 1, cmd: 'CLIENT LIST TYPE normal', mask: [subscriptionFields] },
      { c: 1, cmd: 'CLIENT LIST TYPE master', mask: [subscriptionFields] },
      { c: 1, cmd: 'CLIENT LIST', mask: [subscriptionFields] },
      { c: 1, cmd: 'CLIENT KILL TYPE master' },
      { c: 1, cmd: 'CLIENT KILL TYPE normal' },
      { c: 0, cmd: 'PING' },
      { c: 1, cmd: 'CLIENT KILL TYPE pubsub' },
      { c: 0, cmd: 'PING', expectClose: true, replies: 0 },
      { c: 1, cmd: 'CLIENT LIST TYPE pubsub', mask: [subscriptionFields] },
      { c: 1, cmd: 'PUBSUB NUMSUB a' },
    ],
  },
  {
    name: 'CLIENT INFO of a RESP3 subscriber',
    steps: [HELLO3, 'SUBSCRIBE a', 'PSUBSCRIBE b', { cmd: 'CLIENT INFO', mask: [subscriptionFields] }, 'UNSUBSCRIBE', { cmd: 'CLIENT INFO', mask: [subscriptionFields] }, 'PUNSUBSCRIBE', { cmd: 'CLIENT INFO', mask: [subscriptionFields] }],
    protocols: [2],
  },
  {
    name: 'a subscriber that disconnects is no longer counted',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE gone' },
      { c: 1, cmd: 'SUBSCRIBE gone' },
      { c: 2, cmd: 'PUBLISH gone 1' },
      { c: 0, collect: 1 },
      { c: 1, collect: 1 },
      { c: 0, close: true },
      { c: 2, cmd: 'PUBLISH gone 2' },
      { c: 1, collect: 1 },
      { c: 2, cmd: 'PUBSUB NUMSUB gone' },
    ],
  },
  {
    name: 'CLIENT PAUSE WRITE holds PUBLISH (may_replicate) but not SUBSCRIBE; a refused command is answered at once',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE a' },
      { c: 1, cmd: 'CLIENT PAUSE 100000 WRITE' },
      { c: 2, cmd: 'PUBLISH a held', defer: true },
      { waitBlocked: 1 },
      { c: 0, cmd: 'PSUBSCRIBE b*' },
      { c: 0, cmd: 'XLEN s' },
      { c: 0, cmd: 'PING' },
      { c: 3, cmd: 'PUBSUB NUMSUB a' },
      { c: 1, cmd: 'CLIENT UNPAUSE' },
      { c: 2, collect: 1 },
      { c: 0, collect: 1 },
    ],
    after: ['CLIENT UNPAUSE'],
  },
  {
    name: 'CLIENT PAUSE ALL with a RESP2 subscriber: the refusal and PING\'s message shape',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE a' },
      // ALL holds CLIENT UNPAUSE and INFO too: the pause ends by its timeout.
      { c: 1, cmd: 'CLIENT PAUSE 300 ALL' },
      { c: 0, cmd: 'XLEN s' },
      { c: 0, cmd: 'PING', defer: true },
      { c: 0, collect: 1 },
    ],
    protocols: [2],
    after: ['CLIENT UNPAUSE'],
  },
  {
    name: 'a RESP3 subscriber blocked in XREAD gets messages meanwhile, then its entries',
    steps: [
      { c: 0, cmd: 'SUBSCRIBE a' },
      { c: 0, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 1 },
      { c: 1, cmd: 'PUBLISH a while-blocked' },
      { c: 0, collect: 1 },
      { c: 1, cmd: 'XADD s 1-1 f v' },
      { c: 0, collect: 1 },
      { c: 1, cmd: 'PUBLISH a after' },
      { c: 0, collect: 1 },
      { c: 0, cmd: 'UNSUBSCRIBE' },
    ],
    protocols: [3],
  },
  ...PUBSUB_COMMANDS.map((c) => ({
    name: `COMMAND INFO and DOCS ${c}`,
    steps: [
      { cmd: `COMMAND INFO ${c}`, mask: [sortAt(0, 9)] },
      { cmd: `COMMAND DOCS ${c}`, mask: [sortPairsUnderKey('subcommands')] },
    ],
  })),
  { name: 'COMMAND INFO of the PUBSUB subcommands', steps: PUBSUB_SUBCOMMANDS.map((c) => `COMMAND INFO pubsub|${c}`) },
];

differentialSuite(scripts);
