// Public surface of the storage layer (what the stream layer and the server use).
export * from './recordCodec';
export * from './fileNames';
export { Segment, zeroFill } from './segment';
export { SegmentCache, automaticSegmentLimit } from './segmentCache';
export { CommitBatcher, StorageError, type FsyncPolicy, type CommitBatcherOptions, type CommitTarget, type Syncable } from './commitBatcher';
export { StreamLog, type StreamLogOptions, type ExistingSegment } from './streamLog';
export * from './recovery';
export { DatabaseMap } from './databaseMap';
export { SpaceWatch } from './spaceWatch';
