// Recovery of the typed change records (changeRecords.ts): each change is applied to the stream and its groups
// directly, as the command that made it left them, with no command run, no client and no reply. A change
// names its group and consumer; one that does not exist (a log cut by a crash inside an older build's
// non-atomic write) changes nothing, as the command would have failed then.

import { ChangeType, type StreamChange } from './changeRecords';
import { ConsumerGroup } from './consumerGroup';
import { IdmpTable } from './idmp';
import { dropReferences } from './references';
import type { Stream } from './stream';
import { compareIds, incrementId } from './streamId';

/** Called after a SETTINGS change was applied (the server follows the stream's new appendfsync and bounds). */
export type SettingsChanged = (stream: Stream) => void;

/** Scratch list of index positions (one replay at a time: recovery is sequential). */
const positions: number[] = [];

/** Applies one recorded change to `stream`. Returns false when it named a group or consumer that does not exist. */
export function applyChange(stream: Stream, change: StreamChange, settingsChanged: SettingsChanged): boolean {
  switch (change.type) {
    case ChangeType.DELETE:
      for (const id of change.ids) {
        if (change.delref) dropReferences(stream.groups, id);
        stream.delete(id);
      }
      return true;
    case ChangeType.TRIM:
      stream.trim(change.trim);
      return true;
    case ChangeType.SETID:
      stream.restoreCounters(change.lastId, change.entriesAdded, change.maxDeletedId);
      return true;
    case ChangeType.SETTINGS:
      if (change.idmp !== null) {
        const table = (stream.idmp ??= new IdmpTable());
        table.duration = change.idmp.duration;
        table.maxsize = change.idmp.maxsize;
        table.clear();
      }
      stream.settingsOverride = change.overrides;
      settingsChanged(stream);
      return true;
    case ChangeType.IDMP: {
      const table = (stream.idmp ??= new IdmpTable());
      table.record(change.pid, change.iid, change.id, change.time, stream.idmpMaxsize);
      return true;
    }
    case ChangeType.GROUP_CREATE:
      stream.groups.set(change.group, new ConsumerGroup(change.group, change.lastId, change.entriesRead));
      return true;
    case ChangeType.GROUP_DESTROY:
      return stream.groups.delete(change.group);
  }
  const group = stream.groups.get(change.group);
  if (!group) return false;
  switch (change.type) {
    case ChangeType.GROUP_SETID:
      group.lastId = change.lastId;
      group.entriesRead = change.entriesRead;
      return true;
    case ChangeType.CONSUMER_CREATE:
      group.createConsumer(change.consumer, change.time);
      return true;
    case ChangeType.CONSUMER_DELETE:
      return group.deleteConsumer(change.consumer) !== null;
    case ChangeType.ACK:
      for (const id of change.ids) group.ack(id);
      return true;
    case ChangeType.DELIVER: {
      const consumer = group.consumer(change.consumer, change.time);
      for (const id of change.redelivered) group.redeliverTo(id, consumer, change.time);
      // New entries: every live one after the group's last ID up to the recorded one (the read served them in order).
      const from = incrementId(group.lastId);
      if (!change.noack && from !== null && compareIds(from, change.lastId) <= 0) {
        const n = stream.positionsInRange(from, change.lastId, 0, false, positions);
        for (let i = 0; i < n; i++) group.deliver(stream.idAt(positions[i]), consumer, change.time);
      }
      group.lastId = change.lastId;
      group.entriesRead = change.entriesRead;
      return true;
    }
    case ChangeType.CLAIM: {
      if (change.lastId !== null) group.lastId = change.lastId;
      const owner = change.consumer !== null && change.nacks.length > 0 ? group.consumer(change.consumer, change.time) : null;
      for (const n of change.nacks) group.setNack(n.id, owner, n.deliveryTime, n.deliveryCount);
      for (const id of change.dropped) group.ack(id);
      return true;
    }
  }
}
