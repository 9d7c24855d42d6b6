import type { RedisOptions } from 'ioredis';

/**
 * Ready as soon as the socket is: without ioredis' client info (a package.json read, then two
 * CLIENT SETINFO) and its INFO ready check, each a wait before the first command. A Redis still
 * loading its data answers LOADING, which the CLI reports like a Redis that is down.
 */
export const CLI_CONNECTION: RedisOptions = { disableClientInfo: true, enableReadyCheck: false };
