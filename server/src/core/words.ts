// How Go to Chain… and the Services filter match what the user types: every word of it, lower-
// cased, must stand somewhere in the text searched. Shared by the server, which searches, and
// the client, which narrows the last answer while the next one is asked for.

/** The lower-cased words of what was typed. */
export function queryWords(query: string | undefined): string[] {
  return (query ?? '').toLowerCase().split(/\s+/).filter(Boolean);
}

/** Whether a lower-cased text holds every word. */
export function hasWords(text: string, words: readonly string[]): boolean {
  return words.every((word) => text.includes(word));
}

/** What Go to Chain… searches in a chain: its name, table and service, lower-cased. */
export function chainSearchText(name: string, table: string, service: string | null | undefined): string {
  return `${name}\n${table}${service ? `\n${service}` : ''}`.toLowerCase();
}
