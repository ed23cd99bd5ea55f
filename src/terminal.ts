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
