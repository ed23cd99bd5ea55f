/**
 * Text from outside (file contents, file names, command-line arguments, a spec's strings) is
 * printed with every character a terminal would act on escaped: C0 controls (ESC starts the
 * sequences that move the cursor, recolour, retitle the window or rewrite the clipboard), DEL, C1
 * controls (U+009B is CSI on its own) and the bidirectional overrides that reorder what a line
 * shows. `\n` is kept only where a caller prints several lines on purpose; a one-line message
 * escapes it too.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_KEEP_NEWLINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\u001b': '\\e' };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
}

/** One line of text safe to print on a terminal: every control character escaped, newlines too. */
export function termLine(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Text safe to print on a terminal, its newlines kept. */
export function termText(text: string): string {
  return text.replace(UNSAFE_KEEP_NEWLINES, escapeChar);
}

/** Does this text hold anything termText would escape? (Tests use it on everything printed.) */
export function hasUnsafe(text: string): boolean {
  UNSAFE_KEEP_NEWLINES.lastIndex = 0;
  return UNSAFE_KEEP_NEWLINES.test(text);
}

/** The first line of what a module threw, with where (its first stack frame outside node and tsx). */
export function thrownText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // "Transform failed with 1 error:" says what follows on the next line (file:line:col: ERROR: ...).
  const lines = err.message.split('\n').map((l) => l.trim()).filter(Boolean);
  const first = lines.length ? (lines[0].endsWith(':') && lines[1] ? `${lines[0]} ${lines[1]}` : lines[0]) : err.name;
  const frame = (err.stack ?? '')
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .find((l) => l.startsWith('at ') && !/node:|node_modules/.test(l));
  const where = frame?.match(/\(?((?:file:\/\/)?\/[^()]+:\d+:\d+)\)?$/)?.[1]?.replace(/^file:\/\//, '');
  return `${err.name === 'Error' ? '' : `${err.name}: `}${first}${where && !first.includes(where) ? ` (at ${where})` : ''}`;
}

// eslint-disable-next-line no-control-regex
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** JSON text (JSON.stringify's) with the controls it leaves raw escaped as \u: still the same JSON. */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Prints text on stdout, terminal-safe (its newlines kept). */
export function print(text: string): void {
  process.stdout.write(termText(text));
}

/** Prints a value as indented JSON on stdout, terminal-safe. */
export function printJson(value: unknown): void {
  process.stdout.write(jsonSafe(JSON.stringify(value, null, 2)) + '\n');
}

/** One line on stderr, `daxcheck: ` first, terminal-safe. */
export function warn(line: string): void {
  process.stderr.write(`daxcheck: ${termLine(line)}\n`);
}
