// client-output-buffer-limit parsing (Redis's config.c rules and texts), unit level.
import { describe, expect, it } from 'vitest';
import { OPTIONS, bufferLimitsOf, normalizeOption } from '../../src/config/options';

const spec = OPTIONS.find((o) => o.name === 'client-output-buffer-limit')!;
const DEFAULT = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';

describe('client-output-buffer-limit', () => {
  it('normalises units, class aliases and case; later groups win', () => {
    expect(normalizeOption(spec, 'Normal 1mb 512kb 10', DEFAULT)).toEqual({ value: 'normal 1048576 524288 10 slave 268435456 67108864 60 pubsub 33554432 8388608 60' });
    expect(normalizeOption(spec, 'slave 1 2 3 replica 4 5 6', DEFAULT)).toEqual({ value: 'normal 0 0 0 slave 4 5 6 pubsub 33554432 8388608 60' });
    expect(normalizeOption(spec, 'pubsub 1k 1kb 1', DEFAULT)).toEqual({ value: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 1000 1024 1' });
  });

  it('merges into the current value; an empty value changes nothing', () => {
    const current = 'normal 5 6 7 slave 1 2 3 pubsub 4 5 6';
    expect(normalizeOption(spec, 'normal 0 0 0', current)).toEqual({ value: 'normal 0 0 0 slave 1 2 3 pubsub 4 5 6' });
    expect(normalizeOption(spec, '', current)).toEqual({ value: current });
  });

  it("refuses bad input with Redis's texts", () => {
    expect(normalizeOption(spec, 'normal 1 2')).toEqual({ error: 'Wrong number of arguments in buffer limit configuration.' });
    expect(normalizeOption(spec, 'master 1 2 3')).toEqual({ error: 'Invalid client class specified in buffer limit configuration.' });
    for (const bad of ['normal -1 2 3', 'normal x 2 3', 'normal 0 0 -1', 'normal 0 0 99999999999999999999999'])
      expect(normalizeOption(spec, bad)).toEqual({ error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' });
  });

  it('bufferLimitsOf reads the normal class', () => {
    expect(bufferLimitsOf('normal 1048576 524288 10 slave 1 2 3 pubsub 4 5 6').normal).toEqual({ hard: 1048576, soft: 524288, softSeconds: 10 });
  });
});
