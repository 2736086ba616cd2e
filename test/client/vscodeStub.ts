// Just enough of the `vscode` module for the tree views (client/src/servicesView.ts,
// chainsView.ts) to run under Node's test runner: trees are walked through their providers as
// VS Code walks them, with the server's feature functions answering in-process.
import Module from 'node:module';

type Listener<T> = (value: T) => unknown;

class EventEmitter<T> {
  private listeners: Array<Listener<T>> = [];
  readonly event = (listener: Listener<T>) => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(value: T): void {
    for (const l of [...this.listeners]) l(value);
  }
  dispose(): void {
    this.listeners = [];
  }
}

enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

class TreeItem {
  description?: string;
  tooltip?: unknown;
  iconPath?: unknown;
  command?: unknown;
  id?: string;
  contextValue?: string;
  constructor(
    readonly label: string,
    readonly collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

class ThemeColor {
  constructor(readonly id: string) {}
}

class MarkdownString {
  value = '';
  supportHtml = false;
  constructor(value = '') {
    this.value = value;
  }
  appendMarkdown(text: string): this {
    this.value += text;
    return this;
  }
  appendCodeblock(code: string, language = ''): this {
    this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`;
    return this;
  }
}

class Uri {
  private constructor(private readonly text: string) {}
  static parse(text: string): Uri {
    return new Uri(text);
  }
  toString(): string {
    return this.text;
  }
}

/** What the views did to their TreeView: the last message and description, the nodes revealed. */
export interface FakeTreeView {
  visible: boolean;
  message: string | undefined;
  description: string | undefined;
  revealed: unknown[];
}

export const treeViews: FakeTreeView[] = [];
export const statusMessages: string[] = [];

const stub = {
  EventEmitter,
  TreeItem,
  TreeItemCollapsibleState,
  ThemeIcon,
  ThemeColor,
  MarkdownString,
  Uri,
  commands: { executeCommand: async () => undefined },
  workspace: { asRelativePath: (uri: Uri | string) => String(uri).replace(/^file:\/\/\//, '') },
  window: {
    createTreeView: () => {
      const view: FakeTreeView & Record<string, unknown> = {
        visible: true,
        message: undefined,
        description: undefined,
        revealed: [],
        onDidChangeVisibility: () => ({ dispose: () => undefined }),
        reveal: async (node: unknown) => {
          view.revealed.push(node);
        },
        dispose: () => undefined,
      };
      treeViews.push(view);
      return view;
    },
    setStatusBarMessage: (text: string) => {
      statusMessages.push(text);
      return { dispose: () => undefined };
    },
  },
};

/** Makes `require('vscode')` answer the stub; call before loading a module of client/src that imports vscode. */
export function installVscodeStub(): void {
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const load = loader._load;
  loader._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? stub : load.call(this, request, ...rest);
  };
}
