// Preloaded into a daxcheck process by tests (node --import ./test/support/peak-rss.mjs ...):
// when the process exits, writes its peak resident memory in bytes (getrusage's ru_maxrss, as
// the kernel measured it, every thread included) to the file DAXCHECK_PEAK_RSS_FILE names.
import { writeFileSync } from 'node:fs';

const file = process.env.DAXCHECK_PEAK_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
