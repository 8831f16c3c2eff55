// The running configuration: values by option name, typed getters, and change listeners so components
// (stream node limits, fsync policy, timeouts) follow CONFIG SET without polling.

import { OPTIONS, findOption, normalizeOption } from './options';

export type ConfigListener = (name: string, value: string) => void;

export class ConfigStore {
  private readonly values = new Map<string, string>();
  private readonly listeners: ConfigListener[] = [];

  constructor(overrides: ReadonlyMap<string, string> = new Map()) {
    for (const spec of OPTIONS) {
      const normalized = normalizeOption(spec, spec.default);
      this.values.set(spec.name, 'value' in normalized ? normalized.value : spec.default);
    }
    for (const [name, value] of overrides) {
      const error = this.trySet(name, value, true);
      if (error) throw new Error(`option '${name}': ${error}`);
    }
  }

  get(name: string): string {
    const v = this.values.get(name);
    if (v === undefined) throw new Error(`unknown option ${name}`);
    return v;
  }

  getNumber(name: string): number {
    return Number(this.get(name));
  }

  getBoolean(name: string): boolean {
    return this.get(name) === 'yes';
  }

  names(): string[] {
    return [...this.values.keys()];
  }

  onChange(listener: ConfigListener): void {
    this.listeners.push(listener);
  }

  /** Validates without applying; returns an error message or null. */
  check(name: string, raw: string, atStartup = false): string | null {
    const spec = findOption(name);
    if (!spec) return 'Unknown option or number of arguments';
    if (!spec.mutable && !atStartup) return "can't set immutable config";
    // The current value matters for options set in parts (client-output-buffer-limit keeps unnamed classes).
    const result = normalizeOption(spec, raw, this.values.get(spec.name));
    return 'error' in result ? result.error : null;
  }

  /** Sets a value; returns an error message or null. */
  trySet(name: string, raw: string, atStartup = false): string | null {
    const error = this.check(name, raw, atStartup);
    if (error) return error;
    const spec = findOption(name)!;
    const result = normalizeOption(spec, raw, this.values.get(spec.name)) as { value: string };
    this.values.set(spec.name, result.value);
    for (const l of this.listeners) l(spec.name, result.value);
    return null;
  }
}
