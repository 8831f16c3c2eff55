// Public surface of the storage layer (what the stream layer and the server use).
export * from './recordCodec';
export * from './fileNames';
export { Segment, zeroFill } from './segment';
export { SegmentCache, automaticSegmentLimit } from './segmentCache';
export { CommitBatcher, StorageError, type FsyncPolicy, type CommitBatcherOptions, type CommitTarget, type Syncable } from './commitBatcher';
export { StreamLog, type StreamLogOptions, type ExistingSegment } from './streamLog';
export * from './recovery';
export * from './logSnapshot';
export { DatabaseMap } from './databaseMap';
export { CommitJournal, JOURNAL_DIR, type CommitJournalOptions } from './commitJournal';
export { replayJournal, type JournalReplayReport } from './journalReplay';
export { SpaceWatch } from './spaceWatch';
