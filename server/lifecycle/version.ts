import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The package version, read once from package.json beside the sources. */
export const serverVersion: string = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;
