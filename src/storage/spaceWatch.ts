// Which stream logs may be short of reserved space, counted for the whole server.
//
// A write must not be applied to a stream before its bytes have a place in the mapped segment (on a full disk
// such a write could be neither stored nor refused). Checking every write command against its streams' room
// would cost every command; instead each log keeps `lowWater` bytes reserved ahead of its end, and says here
// when it may not (its reservation is running, failed, or shrank to what the disk had). While no log is short,
// a request smaller than lowWater always fits, and the server checks nothing else (one comparison); otherwise
// it checks the room of the streams the command names and waits for their reservation (Persistence.whenRoom).

export class SpaceWatch {
  /** Logs that may have less than lowWater bytes reserved ahead of their end. */
  short = 0;
  /**
   * Logs whose last required reservation failed, and its errno code. While any has, a write that would create
   * a stream is refused (MISCONF) rather than left waiting for its first segment: the disk is known to be full.
   */
  failing = 0;
  failingCode = 'ENOSPC';

  constructor(
    /** Room every log keeps ahead of its end when it is not short: half its first segment. */
    readonly lowWater: number,
  ) {}
}
