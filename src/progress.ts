/**
 * One progress line on stderr, rewritten in place, while a command works: which configuration of
 * how many, states, states per second, depth, memory, and an estimate of the time left where the
 * work is bounded (a number of walks or seconds, a state count the manifest records).
 *
 * Only when stderr is a terminal (or DAXCHECK_PROGRESS=1, which tests use): piped or redirected,
 * nothing is written.
 */

export interface ProgressFigures {
  states: number;
  depth: number;
  seconds: number;
  /** Extra words after the figures, e.g. `1,204 walks`. */
  note?: string;
  /** Fraction of the work done, 0..1, where the work is bounded. */
  done?: number;
}

export function progressWanted(): boolean {
  return process.env.DAXCHECK_PROGRESS === '1' || (process.env.DAXCHECK_PROGRESS !== '0' && !!process.stderr.isTTY);
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');

/** `1:05`, `2:03:10`. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The progress line's text (exported for tests). */
export function progressLine(k: number, total: number, label: string, f: ProgressFigures, rssBytes: number): string {
  const rate = f.seconds > 0 ? f.states / f.seconds : 0;
  const parts = [`${n(f.states)} states`, `${n(rate)} states/s`, `depth ${f.depth}`, `${n(rssBytes / 1048576)} MB`];
  if (f.note) parts.push(f.note);
  if (f.done !== undefined && f.done > 0 && f.done <= 1 && f.seconds >= 1) parts.push(`ETA ${clock((f.seconds * (1 - f.done)) / f.done)}`);
  return `[${k}/${total}] ${label}: ${parts.join(', ')}`;
}

export class Progress {
  private shown = false;
  private k = 0;
  private label = '';
  constructor(
    readonly enabled: boolean,
    private readonly total: number,
  ) {}

  /** Starts configuration k (1-based) of the total. */
  start(k: number, label: string): void {
    this.k = k;
    this.label = label;
  }

  update(f: ProgressFigures): void {
    if (!this.enabled) return;
    const line = progressLine(this.k, this.total, this.label, f, process.memoryUsage().rss);
    const width = process.stderr.columns ?? 0;
    process.stderr.write(`\r\x1b[K${width > 10 && line.length >= width ? line.slice(0, width - 1) : line}`);
    this.shown = true;
  }

  /** Removes the line (before the command prints anything else). */
  clear(): void {
    if (this.enabled && this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  }
}
