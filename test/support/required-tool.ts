import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Outside programs some tests drive (curl, python3, vsftpd). Without one, those tests are
 * skipped with a reason that names it and how to install it, so `npm test` reports them as
 * skipped instead of failing on ENOENT or passing silently; in CI (CI=true, as .ci/run
 * sets) a missing program fails them instead.
 */
export const TOOLS_REQUIRED = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());

/** Where `name` is installed: on PATH, or in one of `extraDirectories`. */
export function findTool(name: string, extraDirectories: readonly string[] = []): string | undefined {
  for (const directory of [...(process.env.PATH ?? '').split(delimiter), ...extraDirectories]) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/**
 * The `skip` option for a test that needs `name`: false when it is installed, or in CI
 * (where the test then fails); otherwise the reason, with the Debian package to install.
 */
export function skipWithout(name: string, debianPackage: string = name): string | false {
  if (findTool(name) !== undefined || TOOLS_REQUIRED) return false;
  return `${name} is not installed (apt-get install ${debianPackage}); with CI=true this is a failure`;
}
