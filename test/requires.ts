/**
 * Tests that need something npm does not install (a C compiler, cpio, Debian's chromium), under
 * one rule: when it is missing, outside CI those tests are skipped and say so, with the reason and
 * the command that installs it, in their titles and in a banner on stderr; under CI
 * (`process.env.CI` set) they fail with that reason instead. `.ci/run` installs all of it before
 * `npm test` (`npm run replay:setup -- --packages-only`, `npm run chromium`).
 *
 *   requires(gccStatic()).describe('harness/replayer.c', () => { ... });
 *   requires(cpio()).it('is read back by cpio', () => { ... });
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export interface Requirement {
  /** What the tests need, e.g. "gcc and a static C library". */
  what: string;
  /** Null when it is there; otherwise what is missing. */
  missing: string | null;
  /** The command that installs it. */
  install: string;
}

const PACKAGES = 'npm run replay:setup -- --packages-only (as root)';
const sh = (script: string) => spawnSync('sh', ['-c', script], { stdio: 'ignore' }).status === 0;

/** gcc and glibc's static library: the replayer (harness/replayer.c) is built with -static. */
export function gccStatic(): Requirement {
  const libc = '/usr/lib/x86_64-linux-gnu/libc.a';
  const missing = [!sh('command -v gcc') && 'gcc is not on PATH', !existsSync(libc) && `${libc} (libc6-dev) is missing`].filter(Boolean).join('; ');
  return { what: 'gcc and a static C library (gcc, libc6-dev)', missing: missing || null, install: PACKAGES };
}

/** The cpio tool, to read back the initramfs archives. */
export function cpio(): Requirement {
  return { what: 'cpio', missing: sh('command -v cpio') ? null : 'cpio is not on PATH', install: PACKAGES };
}

type Body = () => unknown;

export interface Guarded {
  describe(name: string, body: () => void | Promise<void>): void;
  it(name: string, body: Body): void;
}

/** describe and it that run when every requirement is met, and otherwise skip loudly (fail under CI). */
export function requires(...needs: Requirement[]): Guarded {
  const unmet = needs.filter((n) => n.missing);
  if (!unmet.length) return { describe: (name, body) => describe(name, body), it: (name, body) => it(name, body) };
  const reason = unmet.map((n) => `needs ${n.what}, but ${n.missing} (install: ${n.install})`).join('; ');
  if (process.env.CI) {
    const fail = () => {
      throw new Error(`${reason}. Under CI a missing requirement fails the run instead of skipping it.`);
    };
    return {
      describe: (name) => describe(name, () => it(`has what it ${reason}`, fail)),
      it: (name) => it(name, fail),
    };
  }
  const skip = (name: string) => {
    const bar = '#'.repeat(78);
    process.stderr.write(`\n${bar}\n# SKIPPED "${name}": ${reason}.\n# Under CI (CI set) this fails instead.\n${bar}\n\n`);
    return `${name} [SKIPPED: ${reason}]`;
  };
  return { describe: (name, body) => describe.skip(skip(name), body), it: (name, body) => it.skip(skip(name), body) };
}
