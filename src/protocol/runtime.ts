// The JavaScript runtime kafkax runs in, for messages that depend on it (a native package that
// loads under Node.js may not load under Bun or Deno). Bun and Deno both announce themselves in
// process.versions beside the Node.js version they emulate.

/** `Bun 1.4.5`, `Deno 2.9.6` or `Node.js 22.15.0`. */
export function runtimeName(): string {
  const { bun, deno, node } = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string }
  if (bun) return `Bun ${bun}`
  if (deno) return `Deno ${deno}`
  return `Node.js ${node}`
}
