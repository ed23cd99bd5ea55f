#!/usr/bin/env node
// Entry point of the daxcheck CLI: registers tsx so the TypeScript sources run as they are, then hands over.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
