// Copies the non-TypeScript files the package needs at run time from src/ into the build output
// (`npm run build` runs it after tsc): `node --import tsx scripts/copy-assets.ts [outDir]`.

import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/** Paths under src/ that tsc does not emit but the code reads. */
const ASSETS = ['config/defaults.yaml']

const root = resolve(import.meta.dirname, '..')
const outDir = resolve(root, process.argv[2] ?? 'dist')
for (const asset of ASSETS) {
  mkdirSync(dirname(join(outDir, asset)), { recursive: true })
  copyFileSync(join(root, 'src', asset), join(outDir, asset))
}
