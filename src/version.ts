// Versions reported to clients. Clients enable stream features by redis_version, so Spool reports the Redis
// release whose replies it reproduces; its own version is reported separately (INFO spool_version).

export const REDIS_VERSION = '7.0.15';
// eslint-disable-next-line @typescript-eslint/no-var-requires
export const SPOOL_VERSION: string = require('../package.json').version;
