// Replies wait for durability through tickets: the storage layer numbers its commit batches, and a reply that
// depends on a batch (a write under appendfsync always, or a read of entries not yet synced) carries that
// batch's number. A connection releases replies in request order, each once its ticket is durable.

export interface DurabilityGate {
  /** Highest batch number whose data is durable; tickets up to it can be released. */
  durableTicket(): number;
  /** Registers a listener called whenever durableTicket() advances. */
  onDurable(listener: () => void): void;
}

/** The gate for configurations where every acknowledged write is already as durable as it gets. */
export const IMMEDIATE_GATE: DurabilityGate = {
  durableTicket: () => Number.MAX_SAFE_INTEGER,
  onDurable: () => undefined,
};
