/**
 * The `tracechain` command line. Each command lives in commands/ or node.ts; this file only
 * parses arguments, runs one, and turns failures into a message and a non-zero exit.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { createLogger } from './logger.js';
import { ConfigError, loadConfig, parseHostPort, type NodeConfig } from './config.js';
import { configCommand, type ConfigFlags } from './commands/config.js';
import { TracechainNode } from './node.js';
import { auditCommand } from './commands/audit.js';
import { reindexCommand } from './commands/reindex.js';
import { backupCommand, restoreCommand, type BackupFlags, type RestoreFlags } from './commands/backup.js';
import { startFromSnapshot } from './snapshot-start.js';
import { hashCommand } from './commands/hash.js';
import { benchCommand, type BenchFlags } from './commands/bench.js';
import { captureCommand, type CaptureFlags } from './commands/capture.js';
import { traceCommand, verifyCommand } from './commands/trace.js';
import { verifyProofCommand } from './commands/verify-proof.js';
import { alertsListCommand, alertsShowCommand, alertsStatusCommand, checkCodeCommand, reactivateCommand, type AlertListFlags, type AlertStatusFlags, type LocationFlags } from './commands/alerts.js';
import { memberApproveCommand, memberListCommand, memberProposalsCommand, memberProposeCommand, type ProposeFlags } from './commands/member.js';
import type { ClientFlags } from './commands/client.js';
import { genesisCommand, initCommand, parsePrefixes, parseParties, parseRole } from './commands/init.js';
import { DEFAULT_PREFIXES, devnetCommand } from './commands/devnet.js';
import { missingServingOptions, tuneGcForServing } from './gc-tuning.js';
import { tokenCommand, TokenCommandError, type TokenFlags } from './commands/token.js';
import { watchParent } from './parent-watch.js';

function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

interface StartFlags {
  data?: string;
  api?: string;
  p2p?: string[];
  bootstrap?: string[];
  config?: string;
  workers?: number;
  mine: boolean;
  logLevel?: NodeConfig['log']['level'];
  pretty?: boolean;
  blockInterval?: number;
  exitWithParent?: boolean;
  snapshot?: string;
  passphraseFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
}

async function startCommand(flags: StartFlags): Promise<number> {
  tuneGcForServing();
  // Defaults, then the config file (--config or $TRACECHAIN_CONFIG), then TRACECHAIN_* variables; flags last.
  const config = await loadConfig({ ...(flags.config ? { file: flags.config } : {}), env: process.env });
  if (flags.data) config.dataDir = flags.data;
  config.dataDir = resolve(config.dataDir);
  if (flags.api) Object.assign(config.api, parseHostPort(flags.api));
  if (flags.p2p) config.p2p.listen = flags.p2p;
  if (flags.bootstrap) config.p2p.bootstrap = flags.bootstrap;
  if (flags.workers !== undefined) config.mining.workers = flags.workers;
  if (!flags.mine) config.mining.enabled = false;
  if (flags.logLevel) config.log.level = flags.logLevel;
  if (flags.pretty !== undefined) config.log.pretty = flags.pretty;
  if (flags.blockInterval !== undefined) config.dev.blockIntervalMs = flags.blockInterval;
  if (flags.tlsCert !== undefined) config.api.tls.cert = resolve(flags.tlsCert);
  if (flags.tlsKey !== undefined) config.api.tls.key = resolve(flags.tlsKey);
  if (flags.tlsClientCa !== undefined) config.api.tls.clientCa = resolve(flags.tlsClientCa);
  if ((config.api.tls.cert === '') !== (config.api.tls.key === '')) throw new ConfigError('--tls-cert and --tls-key go together');
  if (config.api.tls.clientCa !== '' && config.api.tls.cert === '') throw new ConfigError('--tls-client-ca needs --tls-cert and --tls-key (mTLS is on top of HTTPS)');
  const logger = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const missing = missingServingOptions();
  if (missing.length > 0) logger.info({ missing }, 'started without the serving node options (a larger young generation for /trace tail latency; docs/deploy.md)');
  if (flags.snapshot !== undefined) await startFromSnapshot({ file: resolve(flags.snapshot), dataDir: config.dataDir, passphraseFile: flags.passphraseFile }, logger);
  const node = new TracechainNode(config, { logger });
  // Watched from before start-up: a parent that dies while the node starts stops it right after.
  let parentGone = false;
  let onParentGone: () => void = () => undefined;
  const unwatchParent = flags.exitWithParent
    ? watchParent(() => {
        parentGone = true;
        onParentGone();
      })
    : () => undefined;
  await node.start();
  const onHup = (): void => node.reload('SIGHUP');
  process.on('SIGHUP', onHup);
  await new Promise<void>((res) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      logger.info({ signal: sig }, 'shutting down');
      res();
    };
    onParentGone = () => {
      logger.warn({ reason: 'parent process gone' }, 'shutting down');
      res();
    };
    if (parentGone) onParentGone();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  unwatchParent();
  process.off('SIGHUP', onHup);
  await node.stop();
  logger.flush();
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('tracechain')
    .description('Permissioned proof-of-work chain for GS1 EPCIS 2.0 medicine traceability')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('start')
    .description('run a node (creates a one-member dev consortium in DIR if it holds none)')
    .option('--data <dir>', 'data directory', undefined)
    .option('--api <host:port>', 'HTTP API address (default 127.0.0.1:8080)')
    .option('--p2p <multiaddr...>', 'libp2p listen address(es)')
    .option('--bootstrap <multiaddr...>', 'peers to dial at start')
    .option('--config <file>', 'config file, JSON or YAML (default $TRACECHAIN_CONFIG); see docs/config.md')
    .option('--workers <n>', 'mining worker threads', intArg('--workers', 1, 256))
    .option('--no-mine', 'do not mine')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .option('--pretty', 'human-readable logs instead of JSON lines')
    .option('--block-interval <ms>', 'target block interval of a newly created dev consortium', intArg('--block-interval', 100, 3_600_000))
    .option('--snapshot <file>', "a new node: restore another member's backup into an empty data directory (every header and body checked, a sample of indexes rebuilt and compared), then sync the rest from peers")
    .option('--passphrase-file <file>', '--snapshot of an encrypted backup: its passphrase (default $TRACECHAIN_BACKUP_PASSPHRASE)')
    .option('--tls-cert <pem>', 'serve the API over HTTPS with this certificate (chain) file; reloaded on SIGHUP and when it changes')
    .option('--tls-key <pem>', 'the private key of --tls-cert')
    .option('--tls-client-ca <pem>', 'accept client certificates signed by this CA (mTLS); bind one to a token with token create --cert')
    .option('--exit-with-parent', 'stop when the process that started this node is gone (for supervisors such as `tracechain devnet`)')
    .action(async (flags: StartFlags) => {
      process.exitCode = await startCommand(flags);
    });

  const configCmd = program.command('config').description('check or print the configuration a node would run with (defaults, --config FILE, TRACECHAIN_* variables)');
  const configSubcommands = [
    { name: 'check', description: 'validate the config file and environment overrides; list every problem and exit 1, else exit 0', json: true },
    { name: 'print', description: 'print the effective configuration as JSON (before command-line flags of start)', json: false },
  ] as const;
  for (const sub of configSubcommands) {
    const cmd = configCmd.command(sub.name).description(sub.description).option('--config <file>', 'config file, JSON or YAML (default $TRACECHAIN_CONFIG)');
    if (sub.json) cmd.option('--json', 'print {ok, file, env, problems} as JSON');
    cmd.action(async (flags: ConfigFlags) => {
      process.exitCode = await configCommand(sub.name, flags, process.stdout, process.stderr);
    });
  }

  program
    .command('hash')
    .description('print the CBV 2.0 event ID of each event in an EPCIS 2.0 document (FILE or - for stdin)')
    .argument('<file>')
    .action(async (file: string) => {
      process.exitCode = await hashCommand(file, process.stdout);
    });

  program
    .command('audit')
    .description('re-verify the stored chain and every index; exit 1 naming the first bad block')
    .option('--data <dir>', 'data directory', './data')
    .option('--json', 'print the report as JSON')
    .option('--workers <n>', 'verifier worker threads for tx signatures and events (default: one per core; 0: on the main thread)', intArg('--workers', 0, 256))
    .action(async (flags: { data: string; json?: boolean; workers?: number }) => {
      process.exitCode = await auditCommand({ data: resolve(flags.data), json: flags.json, ...(flags.workers !== undefined ? { workers: flags.workers } : {}) }, process.stdout, process.stderr);
    });

  program
    .command('reindex')
    .description('rebuild every index of a stopped node from its stored blocks (refuses while the node runs)')
    .option('--data <dir>', 'data directory', './data')
    .option('--repair', "run LevelDB's repair first (deleted or garbled database files)")
    .option('--json', 'print the report as JSON')
    .action(async (flags: { data: string; json?: boolean; repair?: boolean }) => {
      process.exitCode = await reindexCommand({ data: resolve(flags.data), json: flags.json, repair: flags.repair }, process.stdout, process.stderr);
    });

  program
    .command('backup')
    .description("back up a node's chain (one consistent snapshot) to FILE, while it runs (through its API) or stopped; keys only with --include-keys")
    .option('--data <dir>', 'data directory', './data')
    .requiredOption('--out <file>', 'backup file to write')
    .option('--api <url>', 'API of the running node (default http://127.0.0.1:8080, or $TRACECHAIN_API)')
    .option('--token <token>', 'API token (default: DATA/api-token)')
    .option('--token-file <file>', 'file holding the API token')
    .option('--include-keys', 'add the member key, peer key, API tokens and swarm key; the file is then encrypted (scrypt + AES-256-GCM)')
    .option('--passphrase-file <file>', 'passphrase for --include-keys (default $TRACECHAIN_BACKUP_PASSPHRASE)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: BackupFlags) => {
      process.exitCode = await backupCommand({ ...flags, data: resolve(flags.data), out: resolve(flags.out) }, process.stdout, process.stderr);
    });

  program
    .command('restore')
    .description('check a backup (manifest, checksums, consortium) and restore it into a data directory, then audit it; refuses a damaged file and leaves DIR unchanged')
    .requiredOption('--from <file>', 'backup file')
    .option('--data <dir>', 'data directory', './data')
    .option('--force', 'replace a chain (and differing key files) already in DIR')
    .option('--passphrase-file <file>', 'passphrase of an encrypted backup (default $TRACECHAIN_BACKUP_PASSPHRASE)')
    .option('--json', 'print the report as JSON')
    .action(async (flags: RestoreFlags) => {
      process.exitCode = await restoreCommand({ ...flags, from: resolve(flags.from), data: resolve(flags.data) }, process.stdout, process.stderr);
    });

  const clientOptions = (cmd: Command): Command =>
    cmd
      .option('--api <url>', 'node API base URL (default http://127.0.0.1:8080, or $TRACECHAIN_API)')
      .option('--token <token>', 'API token (default: --token-file, $TRACECHAIN_TOKEN, or DATA/api-token with --data)')
      .option('--token-file <file>', 'file holding the API token')
      .option('--data <dir>', "a node's data directory (its api-token is used)")
      .option('--ca <pem>', 'trust this CA (or self-signed) certificate for an https:// node (default $TRACECHAIN_CA)')
      .option('--json', 'print the JSON answer');

  clientOptions(
    program
      .command('capture')
      .description('capture an EPCIS 2.0 document (FILE or - for stdin) on a node: one signed tx with all its events')
      .argument('<file>')
      .option('--wait', 'wait until the tx is in a block')
      .option('--sharing <mode>', "public (events on chain) or private (salted commitments and projections on chain, bodies to the parties only); default: the node's privacy.defaultSharing"),
  ).action(async (file: string, flags: CaptureFlags) => {
    process.exitCode = await captureCommand(file, flags, process.stdout);
  });

  clientOptions(
    program.command('trace').description('where an item has been: its events in chain order (EPC URN or GS1 Digital Link)').argument('<id>'),
  ).action(async (id: string, flags: ClientFlags) => {
    process.exitCode = await traceCommand(id, flags, process.stdout);
  });

  clientOptions(
    program
      .command('verify')
      .description('is an item genuine and usable: status, manufacturer, lot, expiry, custodian, alerts; with --code, check its scratch-off code (recorded on chain)')
      .argument('<id>')
      .option('--code <code>', 'the code under the pack\'s scratch-off panel (docs/alerts.md)')
      .option('--location <id>', 'with --code: where the check happens (e.g. an SGLN URN)'),
  ).action(async (id: string, flags: LocationFlags & { code?: string }) => {
    process.exitCode = flags.code !== undefined ? await checkCodeCommand(id, flags.code, flags, process.stdout) : await verifyCommand(id, flags, process.stdout);
  });

  const alertsCmd = program.command('alerts').description('alerts with a lifecycle: list, show, change status (docs/alerts.md)');
  clientOptions(
    alertsCmd
      .command('list')
      .description('alerts in the order raised, filtered')
      .option('--owner <member>', 'owner (manufacturer): key ID or name')
      .option('--party <member>', 'a member involved: key ID or name')
      .option('--status <status>', 'new, investigating or closed')
      .option('--gtin <gtin>', 'with --lot: alerts of that lot')
      .option('--lot <lot>', 'with --gtin: alerts of that lot')
      .option('--limit <n>', 'at most N alerts (1-500)', intArg('--limit', 1, 500)),
  ).action(async (flags: AlertListFlags) => {
    process.exitCode = await alertsListCommand(flags, process.stdout);
  });
  clientOptions(alertsCmd.command('show').description('one alert with its history').argument('<id>')).action(async (id: string, flags: ClientFlags) => {
    process.exitCode = await alertsShowCommand(id, flags, process.stdout);
  });
  clientOptions(
    alertsCmd
      .command('status')
      .description("change an alert's status, signed by the node at --api (its member must own the alert or be a regulator)")
      .argument('<id>')
      .argument('<status>', 'investigating or closed')
      .option('--resolution <r>', 'closing: genuine, counterfeit or process_error')
      .requiredOption('--reason <text>', 'why'),
  ).action(async (id: string, status: string, flags: AlertStatusFlags) => {
    process.exitCode = await alertsStatusCommand(id, status, flags, process.stdout);
  });
  clientOptions(
    program
      .command('reactivate')
      .description('undo a dispense or decommission (within 10 days, same member, same location), signed by the node at --api')
      .argument('<id>', 'the pack: EPC URN or GS1 Digital Link')
      .option('--location <id>', "where (the dispense's bizLocation, e.g. an SGLN URN)"),
  ).action(async (id: string, flags: LocationFlags) => {
    process.exitCode = await reactivateCommand(id, flags, process.stdout);
  });

  clientOptions(
    program
      .command('verify-proof')
      .description('check a saved /trace or /events/{id}/proof answer (FILE or -) offline, and its blocks against the main chain of the node at --api')
      .argument('<file>'),
  ).action(async (file: string, flags: ClientFlags) => {
    process.exitCode = await verifyProofCommand(file, flags, process.stdout);
  });

  const memberCmd = program.command('member').description('consortium governance: propose and approve member changes, list members and proposals (docs/governance.md)');
  clientOptions(
    memberCmd
      .command('propose')
      .description('propose a change, signed by the node at --api: add FILE | update ID | rotate | suspend ID | resume ID | revoke ID | policy')
      .argument('<change>', 'add, update, rotate, suspend, resume, revoke or policy')
      .argument('[target]', 'add: the public part FILE (or -); update/suspend/resume/revoke: the member ID')
      .option('--activation <height>', 'take effect no earlier than this height (default: the block after the quorum)', intArg('--activation', 0, 2 ** 32 - 1))
      .option('--role <role>', 'update: the new role', parseRole)
      .option('--prefixes <list>', 'update: the new GS1 company prefixes, comma-separated', parsePrefixes)
      .option('--parties <list>', "update: the member's party identifiers (PGLN, GLNs), comma-separated (docs/confidentiality.md)", parseParties)
      .option('--seal', 'update: grant the seal right')
      .option('--no-seal', 'update: withdraw the seal right')
      .option('--new-data <dir>', 'rotate: data directory (tracechain init) holding the new member key and peer key')
      .option('--keep-peer', 'rotate: keep the peer ID, rotate the signing key only')
      .option('--quorum <n/d>', 'policy: approvals must exceed this share of voting members (e.g. 1/2)')
      .option('--lifetime <blocks>', 'policy: blocks a proposal stays open', intArg('--lifetime', 1, 1_000_000_000)),
  ).action(async (change: string, target: string | undefined, flags: ProposeFlags) => {
    process.exitCode = await memberProposeCommand(change, target, flags, process.stdout);
  });
  clientOptions(memberCmd.command('approve').description('approve a proposal by its ID, signed by the node at --api').argument('<proposal>')).action(async (proposal: string, flags: ClientFlags) => {
    process.exitCode = await memberApproveCommand(proposal, flags, process.stdout);
  });
  clientOptions(memberCmd.command('list').description('the members at the tip, each with its history of changes')).action(async (flags: ClientFlags) => {
    process.exitCode = await memberListCommand(flags, process.stdout);
  });
  clientOptions(memberCmd.command('proposals').description('governance proposals: pending, approved, applied, failed, expired, with approvers')).action(async (flags: ClientFlags) => {
    process.exitCode = await memberProposalsCommand(flags, process.stdout);
  });

  program
    .command('bench')
    .description('benchmarks: hashrate, ingest, query, propagation, sync, backup; report runs them all at a few sizes and writes bench/results (JSON + SVG plots)')
    .argument('<which>', 'hashrate | ingest | query | propagation | sync | backup | report')
    .option('--seconds <s>', 'seconds per measurement', intArg('--seconds', 1, 3600), 3)
    .option('--workers <n>', 'worker threads', intArg('--workers', 1, 256))
    .option('--json', 'print one JSON object on the last line')
    .option('--out <dir>', 'report: output directory (default bench/results of this checkout)')
    .option('--quick', 'report: small sizes, a smoke run of a minute')
    .option('--only <parts>', 'report: some of hashrate,ingest,latency,sync (comma-separated)')
    .option('--blocks <n>', 'propagation: blocks to time (default 60); sync: blocks to sync (default 10,000)', intArg('--blocks', 1, 1_000_000))
    .option('--phase-seconds <s>', 'ingest: seconds of posting per phase (default 15)', intArg('--phase-seconds', 1, 3600))
    .option('--clients <n>', 'ingest/query: concurrent HTTP clients', intArg('--clients', 1, 1024))
    .option('--events <n>', 'query: events in the store (default 1,000,000)', intArg('--events', 1000, 100_000_000))
    .option('--block-interval <ms>', 'ingest: block interval of the dev chain (default 500)', intArg('--block-interval', 100, 60_000))
    .option('--capture-workers <n>', 'ingest: capture worker threads of the node (default 1)', intArg('--capture-workers', 0, 64))
    .option('--fresh', 'query: rebuild the store even if a cached one exists')
    .option('--data <dir>', "backup: a stopped node's data directory to copy and back up (e.g. the query bench's store)")
    .option('--no-audit', 'backup: skip the restore with the full audit (it replays every event: long on a large store)')
    .option('--snapshot', 'sync: also time a new node started from a snapshot 100 blocks before the end')
    .option('--format <json|xml>', 'ingest: post the documents as JSON-LD (default) or EPCIS 2.0 XML', (v: string) => {
      if (v !== 'json' && v !== 'xml') throw new InvalidArgumentError('--format takes json or xml');
      return v;
    })
    .option('--sharing <public|private|both>', 'ingest: capture in public mode (default), private mode (docs/confidentiality.md), or both, each phase in both modes on the same node', (v: string) => {
      if (v !== 'public' && v !== 'private' && v !== 'both') throw new InvalidArgumentError('--sharing takes public, private or both');
      return v;
    })
    .option('--https', 'ingest: run the phases over HTTPS too (a fresh self-signed certificate), beside plain HTTP in the same run')
    .option('--dead-webhooks <n>', 'ingest: run every phase twice in the same run, without and then with this many webhook subscriptions that never answer', intArg('--dead-webhooks', 0, 1000))
    .option('--grow-to <n>', 'ingest: instead of the phases, grow one node from empty to this many committed events (100-event documents), sampling the rate, disk and memory', intArg('--grow-to', 1000, 100_000_000))
    .option('--sample-every <n>', 'ingest --grow-to: a sample every this many committed events (default 1,000,000, or a tenth of --grow-to if smaller)', intArg('--sample-every', 100, 100_000_000))
    .option('--max-backlog <events>', 'ingest --grow-to: clients pause while this many accepted events wait for a block (default 100,000; 0: no bound)', intArg('--max-backlog', 0, 100_000_000))
    .option('--nodes <n>', 'propagation: node processes (default 5)', intArg('--nodes', 2, 64))
    .option('--scale', 'report: the growth curves instead (ingest to 10 M events, reads at 1/5/10 M, audit and reindex, sync to 100,000 blocks, propagation to 20 nodes): hours; --only picks parts of it')
    .option('--no-tx-log', 'ingest: run the node without its tx log, to measure what durable 202s cost (benchmark comparison only: such a node loses pending txs on any stop)')
    .action(async (which: string, flags: BenchFlags) => {
      process.exitCode = await benchCommand(which, flags, process.stdout);
    });

  const tokenCmd = program.command('token').description("the node's API tokens (named, scoped; the node keeps only hashes): create, list, revoke, rotate");
  const tokenActions = [
    { name: 'create', args: '<name>', description: 'create a token for a client; prints its secret once' },
    { name: 'list', args: '', description: 'every token: name, scopes, status, created, expiry, last use' },
    { name: 'revoke', args: '<name>', description: "revoke a token: refused from the node's next request on" },
    { name: 'rotate', args: '<name>', description: 'give a token a new secret; the old one works for the grace period' },
  ] as const;
  for (const a of tokenActions) {
    const cmd = tokenCmd.command(a.name).description(a.description).option('--data <dir>', "the node's data directory", './data').option('--json', 'print JSON');
    if (a.args !== '') cmd.argument(a.args);
    if (a.name === 'create') {
      cmd
        .requiredOption('--scope <scopes>', 'comma-separated: read, capture, subscribe, verify, admin, private')
        .option('--expires <duration>', 'expire after this long (90d, 12h, 30m)')
        .option('--cert <pem>', 'bind a client certificate (mTLS): presenting it acts as this token');
    }
    if (a.name === 'rotate') cmd.option('--grace <duration>', 'how long the old secret keeps working', '24h');
    cmd.action(async (...args: unknown[]) => {
      const flags = (a.args !== '' ? args[1] : args[0]) as TokenFlags;
      const name = a.args !== '' ? (args[0] as string) : undefined;
      try {
        process.exitCode = await tokenCommand(a.name, { ...flags, data: resolve(flags.data), ...(name !== undefined ? { name } : {}) }, process.stdout);
      } catch (err) {
        if (!(err instanceof TokenCommandError) && !(err instanceof Error)) throw err;
        process.stderr.write(`tracechain token ${a.name}: ${err.message}\n`);
        process.exitCode = err instanceof TokenCommandError ? 2 : 1;
      }
    });
  }

  program
    .command('init')
    .description("prepare a member's data directory (member key, peer key, API token) and print the member's public part as JSON")
    .option('--data <dir>', 'data directory', './data')
    .requiredOption('--name <name>', 'member (organisation) name')
    .option('--role <role>', 'manufacturer|wholesaler|pharmacy|hospital|regulator|dev', 'dev')
    .option('--prefixes <list>', 'GS1 company prefixes the member owns, comma-separated', '')
    .option('--parties <list>', "the member's party identifiers (its PGLN and GLNs, URN or Digital Link), comma-separated: who it is in private events' source and destination lists", '')
    .option('--no-seal', 'the member may not seal blocks')
    .action(async (flags: { data: string; name: string; role: string; prefixes: string; parties: string; seal: boolean }) => {
      process.exitCode = await initCommand(
        { data: resolve(flags.data), name: flags.name, role: parseRole(flags.role), prefixes: parsePrefixes(flags.prefixes), parties: parseParties(flags.parties), seal: flags.seal },
        process.stdout,
      );
    });

  program
    .command('genesis')
    .description("assemble a consortium's genesis document from its members' public parts (the output of tracechain init)")
    .requiredOption('--name <name>', 'consortium name')
    .requiredOption('--member <file...>', 'member JSON files, in order')
    .option('--out <file>', 'genesis file to write', 'genesis.json')
    .option('--block-interval <ms>', 'target block interval', intArg('--block-interval', 100, 3_600_000), 10_000)
    .option('--swarm-key <file>', 'also write a new pre-shared swarm key (libp2p pnet) to FILE')
    .action(async (flags: { name: string; member: string[]; out: string; blockInterval: number; swarmKey?: string }) => {
      process.exitCode = await genesisCommand({ name: flags.name, members: flags.member, out: flags.out, blockIntervalMs: flags.blockInterval, swarmKey: flags.swarmKey }, process.stdout);
    });

  program
    .command('devnet')
    .description('run an N-member consortium on loopback; prints one JSON line per node once it is ready; SIGINT/SIGTERM stops them')
    .requiredOption('--nodes <n>', 'number of members', intArg('--nodes', 1, 100))
    .option('--dir <dir>', 'where the nodes keep their data (reused on the next run)', './devnet')
    .option('--base-port <port>', 'node i: API on 127.0.0.1:P+i, p2p on tcp/P+100+i', intArg('--base-port', 1, 65_000), 8080)
    .option('--prefixes <list>', "the manufacturers' GS1 company prefixes, comma-separated", DEFAULT_PREFIXES.join(','))
    .option('--block-interval <ms>', 'target block interval', intArg('--block-interval', 100, 3_600_000), 2_000)
    .option('--workers <n>', 'mining worker threads per node', intArg('--workers', 1, 256), 1)
    .option('--log-level <level>', 'node log level (logs go to DIR/<name>/node.log)', 'info')
    .action(async (flags: { nodes: number; dir: string; basePort: number; prefixes: string; blockInterval: number; workers: number; logLevel: string }) => {
      process.exitCode = await devnetCommand(
        {
          nodes: flags.nodes,
          dir: flags.dir,
          basePort: flags.basePort,
          prefixes: parsePrefixes(flags.prefixes),
          blockIntervalMs: flags.blockInterval,
          workers: flags.workers,
          logLevel: flags.logLevel,
          readyTimeoutMs: 120_000,
        },
        process.stdout,
        process.stderr,
      );
    });

  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ConfigError) {
      process.stderr.write(`tracechain: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`tracechain: ${(err as Error).message}\n`);
    return 1;
  }
}
