// The test files of a folder, for scripts/test.ts and scripts/runtimes.ts: `*.test.ts`, sorted,
// those whose path contains one of `filters` (all when none are given).

import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'

export function testFiles(root: string, dir: string, filters: string[] = []): string[] {
  const files: string[] = []
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.test.ts'))
      files.push(relative(root, join(entry.parentPath, entry.name)))
  }
  return files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort()
}
