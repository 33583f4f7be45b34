/**
 * Configuration errors and warnings. Every issue names the file, the line and the dotted key
 * (`connections.net.children.net.mode`) so a user can find it; a ConfigError carries ALL issues found,
 * not just the first (DESIGN.md rule 8: config errors are thrown at the boundary, naming the field).
 */

/** Where a setting or section was written. */
export interface SourceLocation {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
}

/** One problem (or warning) in a configuration. `key` is the dotted path, '' when none applies. */
export interface ConfigIssue extends SourceLocation {
  readonly key: string;
  readonly message: string;
}

/** `file:line: key: message`, the format compilers use, so editors can jump to it. */
export function formatConfigIssue(issue: ConfigIssue): string {
  return issue.key === ''
    ? `${issue.file}:${issue.line}: ${issue.message}`
    : `${issue.file}:${issue.line}: ${issue.key}: ${issue.message}`;
}

/**
 * A configuration that cannot be used. `issues` lists every problem found; `file`, `line` and `key`
 * repeat the first one for callers that only show one.
 */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  readonly file: string;
  readonly line: number;
  readonly key: string;

  constructor(issues: readonly ConfigIssue[]) {
    const list = issues.length > 0 ? issues : [{ file: '<config>', line: 0, key: '', message: 'invalid configuration' }];
    super(list.map(formatConfigIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = list;
    this.file = list[0].file;
    this.line = list[0].line;
    this.key = list[0].key;
  }
}

/** Collects errors and warnings while a pass runs; `throwIfErrors` ends the pass. */
export class IssueCollector {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  error(at: SourceLocation, key: string, message: string): void {
    this.errors.push({ file: at.file, line: at.line, key, message });
  }

  warn(at: SourceLocation, key: string, message: string): void {
    this.warnings.push({ file: at.file, line: at.line, key, message });
  }

  /** Throw all errors, in file order (first appearance) and line order. */
  throwIfErrors(): void {
    if (this.errors.length > 0) throw new ConfigError(sortIssues(this.errors));
  }
}

/** Stable sort by file (in order of first appearance) and line. */
export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const fileOrder = new Map<string, number>();
  for (const i of issues) if (!fileOrder.has(i.file)) fileOrder.set(i.file, fileOrder.size);
  return [...issues].sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line);
}
