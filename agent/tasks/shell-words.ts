/**
 * Splits a /bin/sh command line into its simple commands, words and redirections, the way the shell
 * would before expansion, so the command guard can judge what each command runs on instead of matching
 * text. It understands quoting (single, double, backslash), comments, the list and pipe operators,
 * subshell parentheses, redirections, and command substitution ($(…) and backquotes), whose inner
 * commands are returned for scanning as well. Variables, globs and aliases are left unexpanded.
 */

export interface ShellWord {
  /** The word with its quoting removed; substitutions kept as written. */
  readonly text: string;
  /** Some part of it was quoted (a quoted glob character is literal). */
  readonly quoted: boolean;
  /** The inner command lines of the substitutions it holds. */
  readonly substitutions: readonly string[];
}

export interface Redirection {
  /** `>`, `>>`, `>|`, `&>`, `&>>`, `<`, `<<`, `<>`, `>&`, `<&`, `<<<`. */
  readonly op: string;
  readonly target: ShellWord;
}

export interface SimpleCommand {
  readonly words: readonly ShellWord[];
  readonly redirections: readonly Redirection[];
}

export interface ParsedShell {
  readonly commands: readonly SimpleCommand[];
  /** Every command substitution's inner text, in order. */
  readonly substitutions: readonly string[];
}

const operatorChars = new Set([';', '&', '|', '(', ')', '\n']);
const blank = new Set([' ', '\t', '\r']);
const redirectOps = ['&>>', '<<<', '>>', '>|', '&>', '<<', '<>', '>&', '<&', '>', '<'];

/** The end (index after the closing parenthesis) of a $( … ) that starts its body at `from`. */
function substitutionEnd(src: string, from: number): number {
  let depth = 1;
  let i = from;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\\') i += 2;
    else if (ch === "'") {
      const close = src.indexOf("'", i + 1);
      i = close === -1 ? src.length : close + 1;
    } else if (ch === '"') {
      i += 1;
      while (i < src.length && src[i] !== '"') i += src[i] === '\\' ? 2 : 1;
      i += 1;
    } else if (ch === '(') {
      depth += 1;
      i += 1;
    } else if (ch === ')') {
      depth -= 1;
      i += 1;
      if (depth === 0) return i;
    } else i += 1;
  }
  return src.length;
}

class WordBuilder {
  text = '';
  quoted = false;
  started = false;
  substitutions: string[] = [];

  add(text: string, quoted = false): void {
    this.text += text;
    this.started = true;
    if (quoted) this.quoted = true;
  }

  take(): ShellWord | undefined {
    if (!this.started) return undefined;
    const word = { text: this.text, quoted: this.quoted, substitutions: this.substitutions };
    this.text = '';
    this.quoted = false;
    this.started = false;
    this.substitutions = [];
    return word;
  }
}

export function parseShell(src: string): ParsedShell {
  const commands: SimpleCommand[] = [];
  const substitutions: string[] = [];
  let words: ShellWord[] = [];
  let redirections: Redirection[] = [];
  let pendingRedirect: string | undefined;
  const word = new WordBuilder();

  const endWord = (): void => {
    const done = word.take();
    if (done === undefined) return;
    if (pendingRedirect !== undefined) {
      redirections.push({ op: pendingRedirect, target: done });
      pendingRedirect = undefined;
    } else words.push(done);
  };
  const endCommand = (): void => {
    endWord();
    if (words.length > 0 || redirections.length > 0) commands.push({ words, redirections });
    words = [];
    redirections = [];
    pendingRedirect = undefined;
  };
  const substitute = (inner: string, raw: string): void => {
    substitutions.push(inner);
    word.substitutions.push(inner);
    word.add(raw);
  };

  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === '\\') {
      if (src[i + 1] === '\n') i += 2;
      else {
        word.add(src[i + 1] ?? '', true);
        i += 2;
      }
    } else if (ch === "'") {
      const close = src.indexOf("'", i + 1);
      const end = close === -1 ? src.length : close;
      word.add(src.slice(i + 1, end), true);
      i = end + 1;
    } else if (ch === '"') {
      i += 1;
      let text = '';
      while (i < src.length && src[i] !== '"') {
        const c = src[i]!;
        if (c === '\\' && i + 1 < src.length && '"\\$`\n'.includes(src[i + 1]!)) {
          if (src[i + 1] !== '\n') text += src[i + 1];
          i += 2;
        } else if (c === '$' && src[i + 1] === '(' && src[i + 2] !== '(') {
          const end = substitutionEnd(src, i + 2);
          word.add(text, true);
          text = '';
          substitute(src.slice(i + 2, end - 1), src.slice(i, end));
          i = end;
        } else if (c === '`') {
          const close = src.indexOf('`', i + 1);
          const end = close === -1 ? src.length : close;
          word.add(text, true);
          text = '';
          substitute(src.slice(i + 1, end), src.slice(i, end + 1));
          i = end + 1;
        } else {
          text += c;
          i += 1;
        }
      }
      word.add(text, true);
      i += 1;
    } else if (ch === '$' && src[i + 1] === '(' && src[i + 2] !== '(') {
      const end = substitutionEnd(src, i + 2);
      substitute(src.slice(i + 2, end - 1), src.slice(i, end));
      i = end;
    } else if (ch === '`') {
      const close = src.indexOf('`', i + 1);
      const end = close === -1 ? src.length : close;
      substitute(src.slice(i + 1, end), src.slice(i, end + 1));
      i = end + 1;
    } else if (ch === '#' && !word.started) {
      const newline = src.indexOf('\n', i);
      i = newline === -1 ? src.length : newline;
    } else if (blank.has(ch)) {
      endWord();
      i += 1;
    } else if (ch === '>' || ch === '<' || (ch === '&' && src[i + 1] === '>')) {
      const op = redirectOps.find((candidate) => src.startsWith(candidate, i))!;
      // A file-descriptor number right before the operator (2>) belongs to it, not to the words.
      if (isFdNumber(word)) word.take();
      else endWord();
      pendingRedirect = op;
      i += op.length;
    } else if (operatorChars.has(ch)) {
      endCommand();
      i += 1;
    } else {
      word.add(ch);
      i += 1;
    }
  }
  endCommand();
  return { commands, substitutions };
}

function isFdNumber(word: WordBuilder): boolean {
  return word.started && !word.quoted && word.substitutions.length === 0 && /^\d+$/.test(word.text);
}
