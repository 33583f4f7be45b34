/**
 * Lexer + parser for the strongSwan settings syntax used by swanctl.conf and strongswan.conf
 * (strongswan.conf(5) "SYNTAX", "REFERENCING OTHER SECTIONS", "INCLUDING FILES"; the grammar of
 * libstrongswan settings_lexer.l / settings_parser.y):
 *
 *   settings   := (section | keyvalue | include | NEWLINE)*
 *   section    := name [NEWLINE] [':' absname (',' absname)*] '{' settings '}'
 *   keyvalue   := name '=' value          value ends at '\n', '#' or '}'
 *   include    := 'include' pattern       relative to the including file; shell wildcards
 *   value      := (word | "quoted string")*   parts joined by ONE space, as strongSwan does
 *   comment    := '#' to the end of the line
 *
 * Quoted strings know \n \r \t, a backslash before a newline joins lines, and \x is x.
 * Repeated sections merge (later values replace earlier ones); a repeated key keeps its latest value.
 *
 * The parser is total: for any text it returns a tree or throws a ConfigError listing every
 * problem with file, line and dotted key. Each loop consumes at least one character, so it cannot
 * hang; include depth and reference expansion are bounded.
 */
import { dirname, isAbsolute, join } from 'node:path';
import { ConfigError, IssueCollector } from './errors.js';
import type { ConfigIssue, SourceLocation } from './errors.js';

/** `key = value`; an empty assignment (`key =`) has value '' and means "use the default". */
export interface SettingsValue extends SourceLocation {
  readonly key: string;
  value: string;
}

/** A `: other.section` reference of a section (strongswan.conf(5) "REFERENCING OTHER SECTIONS"). */
export interface SettingsReference extends SourceLocation {
  readonly name: string;
}

/** A `name { ... }` section. `path` is the dotted name from the root ('' for the root). */
export interface SettingsSection extends SourceLocation {
  readonly name: string;
  path: string;
  refs: SettingsReference[];
  values: SettingsValue[];
  sections: SettingsSection[];
}

/** File access for `include`; injected so the parser can run on in-memory text. */
export interface IncludeHost {
  /**
   * The files an absolute pattern names, sorted. A pattern with wildcards that matches nothing gives
   * []; a plain path that does not exist throws an Error whose message says why.
   */
  expand(absolutePattern: string): string[];
  /** The file's text; throws an Error whose message says why it cannot be read. */
  readText(path: string): string;
}

export interface ParseOptions {
  /** Needed only when the text uses `include`. */
  readonly host?: IncludeHost;
  /** Maximum include nesting (default 10). */
  readonly maxIncludeDepth?: number;
}

export interface ParseResult {
  readonly root: SettingsSection;
  readonly warnings: readonly ConfigIssue[];
  /** Every file read, the main one first. */
  readonly files: readonly string[];
}

/** Longest accepted text per file, so a hostile input cannot make the parser allocate without bound. */
const MAX_FILE_CHARS = 16 * 1024 * 1024;
/** Bound on the number of nodes reference expansion may create. */
const MAX_EXPANDED_NODES = 100_000;
const DEFAULT_INCLUDE_DEPTH = 10;
/** Deepest section nesting accepted (swanctl needs 5); keeps recursion far from the stack limit. */
const MAX_NESTING = 64;

/** Thrown inside the parser to stop at once; run() turns it into the ConfigError. */
class AbortParse extends Error {}

/** Parse settings text. Throws ConfigError (never anything else) when the text is malformed. */
export function parseSwanctl(text: string, file: string, options: ParseOptions = {}): ParseResult {
  const parser = new Parser(options);
  return parser.run(text, file);
}

/** Read `path` through the host and parse it. */
export function parseSwanctlFile(path: string, host: IncludeHost, options: Omit<ParseOptions, 'host'> = {}): ParseResult {
  let text: string;
  try {
    text = host.readText(path);
  } catch (e) {
    throw new ConfigError([{ file: path, line: 0, key: '', message: `cannot read configuration: ${errorText(e)}` }]);
  }
  return parseSwanctl(text, path, { ...options, host });
}

/** Find a section by dotted path below `root` ('' is the root itself). */
export function findSection(root: SettingsSection, path: string): SettingsSection | undefined {
  if (path === '') return root;
  let cur: SettingsSection | undefined = root;
  for (const part of path.split('.')) {
    cur = cur.sections.find((s) => s.name === part);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function newSection(name: string, path: string, at: SourceLocation): SettingsSection {
  return { name, path, file: at.file, line: at.line, refs: [], values: [], sections: [] };
}

function childPath(section: SettingsSection, name: string): string {
  return section.path === '' ? name : `${section.path}.${name}`;
}

/** Characters that end a section name or key (strongswan.conf(5): `. , : { } = " # \n \t space` minus '.'). */
function isNameChar(c: string): boolean {
  return !(c === '#' || c === '{' || c === '}' || c === '=' || c === ',' || c === ':' || c === '"' || c === ' ' || c === '\t' || c === '\r' || c === '\n');
}

/** One file being scanned. */
class Scanner {
  pos = 0;
  line = 1;
  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  get eof(): boolean {
    return this.pos >= this.text.length;
  }
  get ch(): string {
    return this.text[this.pos] ?? '';
  }
  at(): SourceLocation {
    return { file: this.file, line: this.line };
  }
  /** Skip spaces, tabs, CRs and a comment, but not the newline. */
  skipBlank(): void {
    while (!this.eof) {
      const c = this.ch;
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '#') {
        while (!this.eof && this.ch !== '\n') this.pos++;
      } else return;
    }
  }
  /** Skip blanks, comments and newlines. */
  skipBlankLines(): void {
    for (;;) {
      this.skipBlank();
      if (this.ch !== '\n') return;
      this.pos++;
      this.line++;
    }
  }
  /** Skip to (not past) the end of the line. */
  skipLine(): void {
    while (!this.eof && this.ch !== '\n') this.pos++;
  }
  readName(): string {
    const start = this.pos;
    while (!this.eof && isNameChar(this.ch)) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

class Parser {
  private readonly issues = new IssueCollector();
  private readonly host: IncludeHost | undefined;
  private readonly maxDepth: number;
  private readonly includeStack: string[] = [];
  private readonly files: string[] = [];
  private hasRefs = false;

  constructor(options: ParseOptions) {
    this.host = options.host;
    this.maxDepth = options.maxIncludeDepth ?? DEFAULT_INCLUDE_DEPTH;
  }

  run(text: string, file: string): ParseResult {
    const root = newSection('', '', { file, line: 1 });
    try {
      this.parseFile(text, file, root, 0);
    } catch (e) {
      if (!(e instanceof AbortParse)) throw e;
    }
    let resolved = root;
    if (this.hasRefs && this.issues.errors.length === 0) resolved = resolveReferences(root, this.issues);
    this.issues.throwIfErrors();
    return { root: resolved, warnings: this.issues.warnings, files: this.files };
  }

  private parseFile(text: string, file: string, into: SettingsSection, depth: number): void {
    this.files.push(file);
    if (text.length > MAX_FILE_CHARS) {
      this.issues.error({ file, line: 1 }, '', `file is larger than ${MAX_FILE_CHARS} characters`);
      return;
    }
    this.includeStack.push(file);
    this.parseStatements(new Scanner(text, file), into, undefined, depth);
    this.includeStack.pop();
  }

  /** Statements until EOF (top level / included file) or the '}' closing `section` (opened at `openedAt`). */
  private parseStatements(sc: Scanner, section: SettingsSection, openedAt: SourceLocation | undefined, depth: number): void {
    if (depth > MAX_NESTING) {
      this.issues.error(openedAt ?? sc.at(), section.path, `sections nested deeper than ${MAX_NESTING}`);
      throw new AbortParse();
    }
    for (;;) {
      sc.skipBlank();
      if (sc.eof) {
        if (openedAt !== undefined) {
          this.issues.error(openedAt, section.path, `unterminated section "${section.name}": missing "}" before the end of ${sc.file}`);
        }
        return;
      }
      const c = sc.ch;
      const at = sc.at();
      if (c === '\n') {
        sc.pos++;
        sc.line++;
        continue;
      }
      if (c === '}') {
        sc.pos++;
        if (openedAt !== undefined) return;
        this.issues.error(at, section.path, 'unexpected "}": no section is open');
        continue;
      }
      if (c === '{') {
        sc.pos++;
        this.issues.error(at, section.path, 'unexpected "{": a section needs a name');
        this.parseStatements(sc, newSection('', section.path, at), at, depth + 1); // parse and drop, to resynchronise
        continue;
      }
      if (c === '=') {
        this.issues.error(at, section.path, 'missing key before "="');
        sc.skipLine();
        continue;
      }
      if (c === '"') {
        this.issues.error(at, section.path, 'unexpected quoted string: quotes are allowed in values only');
        sc.skipLine();
        continue;
      }
      if (c === ':' || c === ',') {
        sc.pos++;
        this.issues.error(at, section.path, `unexpected "${c}"`);
        continue;
      }
      const name = sc.readName();
      if (name === 'include' && (sc.ch === ' ' || sc.ch === '\t')) {
        const save = sc.pos;
        while (sc.ch === ' ' || sc.ch === '\t') sc.pos++;
        if (sc.ch !== '=') {
          this.parseInclude(sc, section, at, depth);
          continue;
        }
        sc.pos = save;
      }
      sc.skipBlank();
      const next = sc.ch;
      if (next === '=') {
        sc.pos++;
        const value = this.readValue(sc, childPath(section, name));
        this.setValue(section, name, value, at);
        continue;
      }
      if (next === '{') {
        sc.pos++;
        this.parseStatements(sc, this.openSection(section, name, at, []), at, depth + 1);
        continue;
      }
      if (next === ':') {
        sc.pos++;
        const refs = this.readRefs(sc, section, name);
        sc.skipBlankLines();
        if (sc.ch === '{') {
          sc.pos++;
          this.parseStatements(sc, this.openSection(section, name, at, refs), at, depth + 1);
        } else {
          this.issues.error(at, childPath(section, name), `missing "{" after the references of section "${name}"`);
          if (sc.ch !== '}') sc.skipLine();
        }
        continue;
      }
      if (next === '\n' || next === '') {
        // strongSwan allows the '{' of a section on the next line.
        const savePos = sc.pos;
        const saveLine = sc.line;
        sc.skipBlankLines();
        if (sc.ch === '{') {
          sc.pos++;
          this.parseStatements(sc, this.openSection(section, name, at, []), at, depth + 1);
          continue;
        }
        sc.pos = savePos;
        sc.line = saveLine;
      }
      this.issues.error(at, childPath(section, name), `missing "=" after "${name}" (expected "${name} = value" or "${name} {")`);
      if (next !== '}') sc.skipLine();
    }
  }

  /** After '=': words and quoted strings up to '\n', '#' or '}' (not consumed), joined by one space. */
  private readValue(sc: Scanner, key: string): string {
    const parts: string[] = [];
    for (;;) {
      while (sc.ch === ' ' || sc.ch === '\t' || sc.ch === '\r') sc.pos++;
      const c = sc.ch;
      if (c === '' || c === '\n' || c === '#' || c === '}') break;
      if (c === '"') {
        parts.push(this.readQuoted(sc, key));
        continue;
      }
      const start = sc.pos;
      while (!sc.eof) {
        const d = sc.ch;
        if (d === '#' || d === '}' || d === '"' || d === '\r' || d === '\n' || d === '\t' || d === ' ') break;
        sc.pos++;
      }
      parts.push(sc.text.slice(start, sc.pos));
    }
    return parts.join(' ');
  }

  /** A "quoted string" starting at the current '"'. Reports an unterminated string and returns what it read. */
  private readQuoted(sc: Scanner, key: string): string {
    const at = sc.at();
    sc.pos++;
    let out = '';
    for (;;) {
      if (sc.eof) {
        this.issues.error(at, key, 'unterminated quoted string: missing closing "');
        return out;
      }
      const c = sc.ch;
      sc.pos++;
      if (c === '"') return out;
      if (c === '\r') continue;
      if (c === '\n') {
        sc.line++;
        out += '\n';
        continue;
      }
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (sc.eof) continue; // reported as unterminated on the next turn
      const e = sc.ch;
      sc.pos++;
      if (e === 'n') out += '\n';
      else if (e === 'r') out += '\r';
      else if (e === 't') out += '\t';
      else if (e === '\n') sc.line++; // escaped newline joins lines
      else if (e === '\r' && sc.ch === '\n') {
        sc.pos++;
        sc.line++;
      } else out += e;
    }
  }

  /** `name : a, b.c` after the ':'; returns the references (maybe empty after an error). */
  private readRefs(sc: Scanner, section: SettingsSection, name: string): SettingsReference[] {
    const refs: SettingsReference[] = [];
    for (;;) {
      sc.skipBlank();
      const at = sc.at();
      const ref = sc.readName();
      if (ref === '' || ref.startsWith('.') || ref.endsWith('.') || ref.includes('..')) {
        this.issues.error(at, childPath(section, name), `bad section reference "${ref}"`);
        return refs;
      }
      refs.push({ name: ref, file: at.file, line: at.line });
      sc.skipBlank();
      if (sc.ch !== ',') return refs;
      sc.pos++;
    }
  }

  private parseInclude(sc: Scanner, section: SettingsSection, at: SourceLocation, depth: number): void {
    let pattern = '';
    if (sc.ch === '"') {
      pattern = this.readQuoted(sc, childPath(section, 'include'));
    } else {
      while (!sc.eof) {
        const c = sc.ch;
        if (c === '#' || c === '}' || c === '\n' || c === '\t' || c === ' ') break;
        if (c === '\r') {
          sc.pos++;
          continue;
        }
        if (c === '\\' && (sc.text[sc.pos + 1] === '"' || sc.text[sc.pos + 1] === '#' || sc.text[sc.pos + 1] === '}' || sc.text[sc.pos + 1] === ' ')) {
          pattern += sc.text[sc.pos + 1];
          sc.pos += 2;
          continue;
        }
        pattern += c;
        sc.pos++;
      }
    }
    this.include(pattern, section, at, depth);
  }

  private include(pattern: string, section: SettingsSection, at: SourceLocation, depth: number): void {
    const key = childPath(section, 'include');
    if (pattern === '') {
      this.issues.warn(at, key, 'no include pattern given, ignored');
      return;
    }
    if (this.host === undefined) {
      this.issues.error(at, key, `cannot include "${pattern}": no file access when parsing text`);
      return;
    }
    if (this.includeStack.length > this.maxDepth) {
      this.issues.error(at, key, `cannot include "${pattern}": includes nested deeper than ${this.maxDepth}`);
      return;
    }
    const absolute = isAbsolute(pattern) ? pattern : join(dirname(at.file), pattern);
    let files: string[];
    try {
      files = this.host.expand(absolute);
    } catch (e) {
      this.issues.error(at, key, `cannot include "${pattern}": ${errorText(e)}`);
      return;
    }
    for (const f of files) {
      if (this.includeStack.includes(f)) {
        this.issues.error(at, key, `cannot include "${f}": include loop (${[...this.includeStack, f].join(' -> ')})`);
        continue;
      }
      let text: string;
      try {
        text = this.host.readText(f);
      } catch (e) {
        this.issues.error(at, key, `cannot include "${f}": ${errorText(e)}`);
        continue;
      }
      this.parseFile(text, f, section, depth);
    }
  }

  private checkName(section: SettingsSection, name: string, at: SourceLocation): boolean {
    if (name.includes('.')) {
      this.issues.error(at, childPath(section, name), `invalid name "${name}": names may not contain "."`);
      return false;
    }
    return true;
  }

  private setValue(section: SettingsSection, key: string, value: string, at: SourceLocation): void {
    if (!this.checkName(section, key, at)) return;
    const existing = section.values.find((v) => v.key === key);
    if (existing !== undefined) {
      // strongswan.conf(5): "already existing values are replaced"; point at the latest definition.
      section.values[section.values.indexOf(existing)] = { key, value, file: at.file, line: at.line };
    } else {
      section.values.push({ key, value, file: at.file, line: at.line });
    }
  }

  private openSection(parent: SettingsSection, name: string, at: SourceLocation, refs: SettingsReference[]): SettingsSection {
    const valid = this.checkName(parent, name, at);
    if (refs.length > 0) this.hasRefs = true;
    const existing = valid ? parent.sections.find((s) => s.name === name) : undefined;
    if (existing !== undefined) {
      existing.refs.push(...refs); // a repeated section extends the first one
      return existing;
    }
    const section = newSection(name, childPath(parent, name), at);
    section.refs = refs;
    if (valid) parent.sections.push(section); // an invalid one is parsed and dropped
    return section;
  }
}

/**
 * Apply `name : ref1, ref2 { ... }` inheritance (strongswan.conf(5)): a section keeps its own values
 * and subsections and inherits, left to right, what it does not define from each referenced section
 * (themselves resolved first). Subsections of the same name merge recursively. Inherited nodes keep
 * the file and line where they were written.
 */
function resolveReferences(root: SettingsSection, issues: IssueCollector): SettingsSection {
  const memo = new Map<SettingsSection, SettingsSection>();
  const active = new Set<SettingsSection>();
  let budget = MAX_EXPANDED_NODES;
  let exhausted = false;

  const spend = (at: SourceLocation, key: string): boolean => {
    if (--budget >= 0) return true;
    if (!exhausted) issues.error(at, key, `section references expand to more than ${MAX_EXPANDED_NODES} settings`);
    exhausted = true;
    return false;
  };

  const clone = (s: SettingsSection, depth: number): SettingsSection => {
    if (depth > 4 * MAX_NESTING) {
      if (!exhausted) issues.error(s, s.path, `section references nest deeper than ${4 * MAX_NESTING}`);
      exhausted = true;
    }
    if (exhausted || !spend(s, s.path)) return newSection(s.name, s.path, s);
    return { ...s, refs: [], values: s.values.map((v) => ({ ...v })), sections: s.sections.map((c) => clone(c, depth + 1)) };
  };

  const inherit = (dst: SettingsSection, src: SettingsSection, depth: number): void => {
    if (exhausted) return;
    for (const v of src.values) {
      if (!spend(v, dst.path)) return;
      if (!dst.values.some((d) => d.key === v.key)) dst.values.push({ ...v });
    }
    for (const sub of src.sections) {
      const d = dst.sections.find((s) => s.name === sub.name);
      if (d !== undefined) inherit(d, sub, depth + 1);
      else dst.sections.push(clone(sub, depth + 1));
    }
  };

  const effective = (s: SettingsSection): SettingsSection => {
    const done = memo.get(s);
    if (done !== undefined) return done;
    active.add(s);
    const out: SettingsSection = { ...s, refs: [], values: s.values.map((v) => ({ ...v })), sections: s.sections.map(effective) };
    for (const ref of s.refs) {
      const target = findSection(root, ref.name);
      if (target === undefined) {
        issues.error(ref, s.path, `reference to unknown section "${ref.name}"`);
      } else if (active.has(target)) {
        issues.error(ref, s.path, `circular reference to section "${ref.name}"`);
      } else {
        inherit(out, effective(target), 0);
      }
    }
    active.delete(s);
    memo.set(s, out);
    return out;
  };

  const fixPaths = (s: SettingsSection, path: string): void => {
    s.path = path;
    for (const sub of s.sections) fixPaths(sub, path === '' ? sub.name : `${path}.${sub.name}`);
  };

  const out = effective(root);
  fixPaths(out, '');
  return out;
}
