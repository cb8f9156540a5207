import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, parseConfig, type Config } from '../server/config.js';
import { ensureDemo, formatLogins, openRuntime, startRuntime } from '../server/runtime.js';
import { migrateDown } from '../db/migrate.js';
import { findGroupBySlug } from '../modules/groups/index.js';
import { verifyLog } from '../modules/audit/index.js';
import { sealAllPending } from '../modules/audit/index.js';
import { createGroup } from '../modules/group-setup/index.js';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, createReadStream, readFileSync } from 'node:fs';
import { OfflineInputError, verifyExport } from '../modules/audit/index.js';
import { registerPdfCommands } from './pdf.js';
import { registerOfdCommands } from './ofd.js';
import { registerSealCommands } from './seal.js';
import { registerDeviceCommands } from './device.js';

/** Exit statuses shared by every command: 0 success, 1 a negative verdict, 2 bad input or usage. */
export const EXIT = { ok: 0, negative: 1, usage: 2 } as const;

class UsageError extends Error {}

/** `sigil audit verify --log`: an export against saved checkpoints and the public key, with no database. */
async function verifyOffline(options: {
  log: string;
  checkpoint: string[];
  publicKey?: string;
  group?: string;
  json?: boolean;
}) {
  if (options.group !== undefined) throw new UsageError('--group and --log exclude each other');
  if (options.checkpoint.length === 0) throw new UsageError('--log needs at least one --checkpoint FILE');
  if (options.publicKey === undefined) throw new UsageError('--log needs --public-key FILE');
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      throw new UsageError(`cannot read ${file}`);
    }
  };
  const checkpoints = options.checkpoint.map((file) => ({ name: file, text: read(file) }));
  const publicKey = read(options.publicKey);
  try {
    accessSync(options.log, constants.R_OK);
  } catch {
    throw new UsageError(`cannot read ${options.log}`);
  }
  let report;
  try {
    report = await verifyExport({ log: createReadStream(options.log), checkpoints, publicKey });
  } catch (error) {
    if (error instanceof OfflineInputError) throw new UsageError(error.message);
    throw error;
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (report.intact) {
    const largest = report.checkpoints.at(-1)!;
    process.stdout.write(
      `intact: ${report.checked} places verified; checkpoint of ${largest.treeSize} places signed at ${largest.signedAt.toISOString()} matches${
        report.uncovered > 0 ? `; the last ${report.uncovered} places are covered by no checkpoint given` : ''
      }\n`,
    );
  } else
    process.stdout.write(
      `NOT INTACT: ${report.firstProblem?.kind} at place ${report.firstProblem?.seq} — ${report.firstProblem?.detail}\n`,
    );
  process.exitCode = report.intact ? EXIT.ok : EXIT.negative;
}

function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

function configFrom(overrides: Record<string, string | undefined>): Config {
  return parseConfig({
    ...process.env,
    ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)),
  });
}

function port(value: string): string {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('must be a port number (0–65535)');
  return value;
}

export function buildCli(): Command {
  const program = new Command('sigil')
    .description('Sigil — seal control and electronic signatures')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('serve')
    .description('serve the API and console')
    .option('--port <n>', 'port to listen on (PORT)', port)
    .option('--data <dir>', 'data directory (SIGIL_DATA_DIR)')
    .option('--demo', 'seed the demo group on first start and print its logins')
    .action(async (options: { port?: string; data?: string; demo?: boolean }) => {
      const config = configFrom({ PORT: options.port, SIGIL_DATA_DIR: options.data });
      const runtime = await startRuntime(config, warn);
      const shutdown = async (signal: string) => {
        runtime.app.log.info({ signal }, 'shutting down');
        await runtime.close();
        process.exit(EXIT.ok);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      // Listening at once lets /healthz answer during a long seed; /readyz says 503 until it has committed.
      const seeded = options.demo ? runtime.readiness.hold('demo seed') : undefined;
      const address = await runtime.app.listen({ port: config.port, host: config.host });
      const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
      if (options.demo) {
        const logins = await ensureDemo(runtime.ctx);
        process.stdout.write(`${formatLogins(logins, url)}\n`);
        seeded?.();
      }
    });

  program
    .command('demo')
    .description('seed the demo group (idempotent) and print its logins')
    .option('--data <dir>', 'data directory (SIGIL_DATA_DIR)')
    .action(async (options: { data?: string }) => {
      const { ctx, database } = await openRuntime(configFrom({ SIGIL_DATA_DIR: options.data }), warn);
      try {
        const logins = await ensureDemo(ctx);
        // A command that wrote audit events links them before it exits, not at the next server's start.
        await sealAllPending(ctx.db, { wait: true });
        process.stdout.write(
          `${logins.created ? 'Seeded the demo group.' : 'The demo group already exists; nothing changed.'}\n${formatLogins(logins, `http://localhost:${ctx.config.port}`)}\n`,
        );
      } finally {
        await database.close();
      }
    });

  const db = program.command('db').description('database maintenance');
  db.command('migrate')
    .description('apply pending migrations (or revert the latest with --down)')
    .option('--down', 'revert the latest migration')
    .option('--data <dir>', 'data directory (SIGIL_DATA_DIR)')
    .action(async (options: { down?: boolean; data?: string }) => {
      const { database } = await openRuntime(configFrom({ SIGIL_DATA_DIR: options.data }), warn);
      try {
        if (options.down) {
          const reverted = await migrateDown(database.db);
          process.stdout.write(reverted.length ? `reverted ${reverted.join(', ')}\n` : 'nothing to revert\n');
        } else {
          process.stdout.write('database is at the latest migration\n');
        }
      } finally {
        await database.close();
      }
    });

  program
    .command('group')
    .description('tenant administration')
    .command('create')
    .description('create a group with its head company and first system administrator')
    .requiredOption('--name <name>', 'group name')
    .requiredOption('--slug <slug>', 'short unique name, e.g. acme')
    .requiredOption('--company <name>', 'head company name')
    .requiredOption('--code <code>', 'head company code')
    .requiredOption('--admin-email <email>', 'first system administrator e-mail')
    .requiredOption('--admin-name <name>', 'first system administrator name')
    .option('--data <dir>', 'data directory (SIGIL_DATA_DIR)')
    .action(
      async (options: {
        name: string;
        slug: string;
        company: string;
        code: string;
        adminEmail: string;
        adminName: string;
        data?: string;
      }) => {
        if (!/^[a-z0-9-]{2,40}$/.test(options.slug))
          throw new UsageError('--slug must be 2–40 lower-case letters, digits or dashes');
        const { ctx, database } = await openRuntime(configFrom({ SIGIL_DATA_DIR: options.data }), warn);
        try {
          if (await findGroupBySlug(ctx.db, options.slug))
            throw new UsageError(`a group with slug ${options.slug} already exists`);
          const password = randomBytes(12).toString('base64url');
          await createGroup(
            ctx.db,
            {
              name: options.name,
              slug: options.slug,
              headCompany: { name: options.company, code: options.code },
              // Printed here for someone to pass on: the administrator changes it at first sign-in.
              admin: { email: options.adminEmail, name: options.adminName, password, mustChangePassword: true },
            },
            { system: 'cli' },
          );
          // A command that wrote audit events links them before it exits, not at the next server's start.
          await sealAllPending(ctx.db, { wait: true });
          process.stdout.write(
            `created group ${options.slug}\n  sign in as ${options.adminEmail} with password ${password} and change it\n`,
          );
        } finally {
          await database.close();
        }
      },
    );

  program
    .command('audit')
    .description('audit log tools')
    .command('verify')
    .description(
      "verify a group's audit log: its hash chain, its Merkle tree and its signed checkpoints (exit 1 when events were altered, inserted, removed or reordered, or the log was cut short, rewritten or forked); with --log, an exported log offline, without a database",
    )
    .option('--group <slug>', 'group to verify, in the database')
    .option('--log <file>', 'an export (GET /api/v1/audit/export) to verify offline')
    .option(
      '--checkpoint <file>',
      'with --log: a checkpoint saved earlier (GET /api/v1/audit/checkpoints/latest, the note or the JSON); repeat for more',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--public-key <file>', 'with --log: the log key (GET /api/v1/audit/log-key, PEM or the JSON)')
    .option('--json', 'print the report as JSON')
    .option('--data <dir>', 'data directory (SIGIL_DATA_DIR)')
    .action(
      async (options: {
        group?: string;
        log?: string;
        checkpoint: string[];
        publicKey?: string;
        json?: boolean;
        data?: string;
      }) => {
        if (options.log !== undefined) return verifyOffline({ ...options, log: options.log });
        if (options.group === undefined) throw new UsageError('give --group SLUG, or --log FILE for an export');
        if (options.checkpoint.length > 0 || options.publicKey !== undefined)
          throw new UsageError('--checkpoint and --public-key go with --log (an export verified offline)');
        const { ctx, database } = await openRuntime(configFrom({ SIGIL_DATA_DIR: options.data }), warn);
        try {
          const group = await findGroupBySlug(ctx.db, options.group);
          if (!group) throw new UsageError(`no group with slug ${options.group}`);
          const report = await verifyLog(ctx, group.id);
          if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
          else if (report.intact)
            process.stdout.write(
              `intact: ${report.checked} events verified, head at ${report.headSeq}; ${
                report.checkpoint
                  ? `signed checkpoint of ${report.checkpoint.treeSize} places at ${report.checkpoint.signedAt.toISOString()}`
                  : 'no signed checkpoint yet'
              }\n`,
            );
          else
            process.stdout.write(
              `NOT INTACT: ${report.firstProblem?.kind} at event ${report.firstProblem?.seq} — ${report.firstProblem?.detail}\n`,
            );
          process.exitCode = report.intact ? EXIT.ok : EXIT.negative;
        } finally {
          await database.close();
        }
      },
    );

  registerPdfCommands(program);
  registerOfdCommands(program);
  registerSealCommands(program);
  registerDeviceCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help') return EXIT.ok;
    if (typeof code === 'string' && code.startsWith('commander.')) return EXIT.usage;
    if (error instanceof ConfigError || error instanceof UsageError) {
      process.stderr.write(`sigil: ${error.message}\n`);
      return EXIT.usage;
    }
    process.stderr.write(`sigil: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.usage;
  }
}

/**
 * Runs `sigil` as a process: the exit status goes into process.exitCode, and the process ends
 * only once stdout and stderr have handed every byte to the OS. process.exit() straight after a
 * large write to a pipe drops what the pipe has not taken yet (a `--json` report cut at 64 KiB,
 * with exit status 0). `serve` keeps running.
 */
export async function runCommandLine(argv: string[]): Promise<void> {
  const status = await main(argv);
  process.exitCode = status;
  if (argv[2] === 'serve' && status === EXIT.ok) return;
  await Promise.all(
    [process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))),
  );
  // Whatever else is still open (a pool, a timer) must not keep a finished command alive.
  process.exit();
}
