/**
 * `tracechain config check [--config FILE]` and `tracechain config print [--config FILE]`.
 *
 * Both resolve the configuration exactly as `start` does before its flags: defaults, then the
 * file (--config, else $TRACECHAIN_CONFIG; JSON, or YAML for .yaml/.yml), then the TRACECHAIN_*
 * environment variables. `check` lists every problem (unknown options with a suggestion, wrong
 * types, values out of range, bad environment values) and exits 1, or says the config is fine
 * and exits 0. `print` writes the effective configuration as JSON (exit 1 and the problems when
 * it is not usable).
 */
import { resolveConfig, type ResolvedConfig } from '../config.js';

export interface ConfigFlags {
  config?: string;
  json?: boolean;
}

function source(r: ResolvedConfig): string {
  const parts = [r.file !== undefined ? `file ${r.file}` : 'no config file (defaults)'];
  if (r.env.length > 0) parts.push(`environment ${r.env.join(', ')}`);
  return parts.join(' + ');
}

export async function configCommand(
  action: 'check' | 'print',
  flags: ConfigFlags,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const r = await resolveConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), env });
  if (action === 'check') {
    if (flags.json) {
      out.write(JSON.stringify({ ok: r.problems.length === 0, file: r.file ?? null, env: r.env, problems: r.problems }) + '\n');
      return r.problems.length === 0 ? 0 : 1;
    }
    if (r.problems.length === 0) {
      out.write(`config ok: ${source(r)}\n`);
      return 0;
    }
    err.write(`config invalid (${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}; ${source(r)}):\n`);
    for (const p of r.problems) err.write(`  - ${p}\n`);
    return 1;
  }
  if (r.problems.length > 0) {
    err.write(`config invalid (${source(r)}):\n`);
    for (const p of r.problems) err.write(`  - ${p}\n`);
    return 1;
  }
  out.write(JSON.stringify(r.config, null, 2) + '\n');
  return 0;
}
