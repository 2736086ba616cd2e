import { type Position, type Range, ResponseError, ErrorCodes, type WorkspaceEdit } from 'vscode-languageserver';
import { type Analysis, occurrenceAt } from '../core/analysis';
import { isBuiltinTarget } from '../core/ruleset';
import { occurrencesOfChain } from './navigation';
import { toRange } from './ranges';

/** iptables keeps chain names in 29 bytes including the terminating NUL. */
const MAX_CHAIN_NAME = 28;

export function prepareRename(analysis: Analysis, position: Position): { range: Range; placeholder: string } | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  const { chain } = occurrence.node;
  if (chain.builtin) throw new ResponseError(ErrorCodes.InvalidRequest, `'${chain.name}' is a built-in chain of table '${occurrence.node.table.name}' and cannot be renamed.`);
  return { range: toRange(occurrence.span), placeholder: chain.name };
}

export function rename(analysis: Analysis, uri: string, position: Position, newName: string): WorkspaceEdit | null {
  const occurrence = occurrenceAt(analysis, position.line, position.character);
  if (!occurrence) return null;
  prepareRename(analysis, position);
  const problem = invalidChainName(newName);
  if (problem) throw new ResponseError(ErrorCodes.InvalidParams, problem);
  const { node } = occurrence;
  const graph = analysis.graph.byTable.get(node.table);
  if (newName !== node.chain.name && graph?.nodes.has(newName)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `Table '${node.table.name}' already has a chain '${newName}'. Choose another name.`);
  }
  const edits = occurrencesOfChain(analysis, node).map((o) => ({ range: toRange(o.span), newText: newName }));
  return { changes: { [uri]: edits } };
}

function invalidChainName(name: string): string | undefined {
  if (name === '') return 'A chain name cannot be empty.';
  if (/[\s"'!]/.test(name)) return `'${name}' is not a valid chain name: it must not contain blanks, quotes or '!'.`;
  if (name.startsWith('-')) return `'${name}' is not a valid chain name: it must not start with '-'.`;
  if (Buffer.byteLength(name, 'utf8') > MAX_CHAIN_NAME) return `'${name}' is too long: iptables allows ${MAX_CHAIN_NAME} characters in a chain name.`;
  if (isBuiltinTarget(name)) return `'${name}' is the name of a target; a chain cannot take it.`;
  return undefined;
}
