import * as vscode from 'vscode';
import type { Range } from 'vscode-languageclient/node';
import type { DumpTracker } from './dumps';

/** What every node of the Services and Chains views has: an id, its parent (for reveal), its children once asked. */
export interface TreeNode<N> {
  id: string;
  parent: N | undefined;
  children?: Promise<N[]>;
}

/** Says why there is nothing to show: the server did not answer, the dump changed. */
export interface MessageNode<N> extends TreeNode<N> {
  kind: 'message';
  text: string;
}

export function messageNode<N extends { id: string }>(parent: N, text: string): MessageNode<N> {
  return { kind: 'message', id: `${parent.id}/?`, parent, text };
}

export function messageItem(node: MessageNode<unknown>): vscode.TreeItem {
  const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
  item.iconPath = icon('info');
  return item;
}

export function icon(id: string, color?: string): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

/** What a click on a row does: show `range` of the dump `uri` in the editor. */
export function revealCommand(uri: vscode.Uri | undefined, range: Range | null | undefined): vscode.Command | undefined {
  return uri && range ? { title: 'Reveal in Editor', command: 'netfilterExplorer.revealRange', arguments: [uri, range] } : undefined;
}

/**
 * A view of the tracked dump whose nodes are asked of the server level by level, each once, as
 * VS Code expands them. A change of the dump refreshes a visible view; a hidden one asks nothing
 * of the server meanwhile, and refreshes when it shows.
 */
export abstract class DumpTreeView<N extends TreeNode<N> & { kind: string }> implements vscode.TreeDataProvider<N>, vscode.Disposable {
  readonly treeView: vscode.TreeView<N>;
  protected readonly changed = new vscode.EventEmitter<N | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  protected readonly disposables: vscode.Disposable[] = [this.changed];
  /** A change arrived while the view was hidden; refresh when it shows. */
  private stale = false;

  constructor(
    viewId: string,
    protected readonly tracker: DumpTracker,
  ) {
    this.treeView = vscode.window.createTreeView(viewId, { treeDataProvider: this, showCollapseAll: true });
    this.disposables.push(
      this.treeView,
      tracker.onDidChange(() => this.invalidate()),
      this.treeView.onDidChangeVisibility((e) => {
        if (e.visible && this.stale) this.invalidate();
      }),
    );
  }

  protected invalidate(): void {
    if (!this.treeView.visible) {
      this.stale = true;
      return;
    }
    this.stale = false;
    this.changed.fire(undefined);
  }

  /** While the tracked dump is read from disk (before its top level is asked): its name, and a message that says so. */
  protected showReading(): void {
    const dump = this.tracker.dump;
    const reading = this.tracker.readingMessage();
    if (dump && reading) {
      this.treeView.description = vscode.workspace.asRelativePath(dump.uri, false);
      this.treeView.message = reading;
    }
  }

  /**
   * Once the top level is answered: the tracked dump's name, and `message`; without an answer
   * for a dump, why: it is still read from disk (or could not be), or `noAnswer`.
   */
  protected showAnswer(answered: boolean, noAnswer: string, message?: string): void {
    const dump = this.tracker.dump;
    this.treeView.description = dump ? vscode.workspace.asRelativePath(dump.uri, false) : undefined;
    this.treeView.message = dump && !answered ? (this.tracker.readingMessage() ?? noAnswer) : message;
  }

  /** The top level, for the tracked dump. */
  protected abstract rootNodes(): Promise<N[]>;
  /** The children of a node, asked once: getChildren keeps them on the node. */
  protected abstract childrenOf(node: N): Promise<N[]>;
  /** The row of a node, but its id and context value. */
  protected abstract treeItem(node: N): vscode.TreeItem;

  getChildren(node?: N): Promise<N[]> {
    if (!node) return this.rootNodes();
    node.children ??= this.childrenOf(node);
    return node.children;
  }

  getParent(node: N): N | undefined {
    return node.parent;
  }

  getTreeItem(node: N): vscode.TreeItem {
    const item = this.treeItem(node);
    item.id = node.id;
    item.contextValue = node.kind;
    return item;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
