// MEMORY against redis-server 7: HELP byte for byte, USAGE's argument checks (made before the key is looked up),
// nil for a missing key, an integer for a stream (its value is Spool's own estimate: masked), COMMAND INFO.
import { differentialSuite } from '../helpers/differential';
import { maskAll } from '../helpers/mask';

differentialSuite([
  {
    name: 'MEMORY HELP, USAGE errors and missing keys',
    steps: [
      'MEMORY HELP',
      'MEMORY USAGE nosuch',
      'MEMORY USAGE nosuch SAMPLES 0',
      'memory usage nosuch samples 5',
      'MEMORY USAGE nosuch SAMPLES',
      'MEMORY USAGE nosuch SAMPLES x',
      'MEMORY USAGE nosuch SAMPLES -1',
      'MEMORY USAGE nosuch SAMPLES 99999999999999999999',
      'MEMORY USAGE nosuch FOO',
      'MEMORY USAGE nosuch SAMPLES 1 SAMPLES x',
      'MEMORY USAGE',
      'MEMORY',
      'MEMORY NOSUCH',
      'MEMORY HELP x',
    ],
  },
  {
    name: 'MEMORY USAGE of a stream: an integer, per database',
    steps: [
      'XADD s 1-1 f v',
      { cmd: 'MEMORY USAGE s', mask: [maskAll] },
      { cmd: 'MEMORY USAGE s SAMPLES 0', mask: [maskAll] },
      'XGROUP CREATE s g 0',
      'XREADGROUP GROUP g c STREAMS s >',
      { cmd: 'MEMORY USAGE s', mask: [maskAll] },
      'MEMORY USAGE s SAMPLES -1',
      'SELECT 1',
      'MEMORY USAGE s',
      'SELECT 0',
    ],
  },
  {
    // The container lists every subcommand Redis has; Spool lists the ones it implements, each as Redis does.
    name: 'COMMAND INFO of the subcommands, GETKEYS',
    steps: ['COMMAND INFO memory|usage memory|help', 'COMMAND GETKEYS MEMORY USAGE k SAMPLES 5'],
  },
]);
