// Tables keyed by words from a dump (table names, commands, option names, protocols) are plain
// objects; a word such as `constructor` or `__proto__` must not find what every object inherits.

/** `record[key]` when the record itself has that key. */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
