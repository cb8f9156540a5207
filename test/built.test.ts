// The built server and CLI (dist/ under plain Node, as `node bin/sigil.js` runs them), not the
// TypeScript through vitest: what only plain Node shows (how a CommonJS package's exports come
// through, the order of start-up) is caught here. Keys live in SoftHSM2 throughout.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { nssDatabase, pdfsig, requireTool, run, SOFTHSM_LIBRARY, softHsmTokens, tempDir } from './signing/support.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import { openTestDatabase } from './support/database.js';
import { ensureServerBuilt, sigilBin } from './support/server-build.js';
import { seedTemplates } from '../src/templates/index.js';

const LIBRARY = SOFTHSM_LIBRARY;
const PIN = '975310';
let tmp: ReturnType<typeof tempDir>;
let databaseUrl: string | undefined;
let closeDatabase: () => Promise<void> = async () => {};

/** Only what the child needs: none of this process's SIGIL_* or DATABASE_URL leaks into it. */
function childEnv(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: tmp.dir,
    SOFTHSM2_CONF: join(tmp.dir, 'softhsm2.conf'),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...extra,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `node bin/sigil.js …` to its end. */
function sigil(args: string[], env: Record<string, string>): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sigilBin, ...args], { cwd: tmp.dir, env: childEnv(env) });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status: status ?? -1, out, err }));
  });
}

beforeAll(async () => {
  requireTool('pdfsig');
  requireTool('openssl');
  requireTool('mutool');
  await ensureServerBuilt();
  tmp = tempDir('sigil-built-');
  softHsmTokens(tmp, ['sigil-server', 'sigil-cli'], PIN);
  // A PDF made by another tool than Sigil.
  tmp.file('page.txt', '%%MediaBox 0 0 595 842\nBT /F1 24 Tf 72 700 Td (Purchase contract) Tj ET\n');
  run('mutool', ['create', '-o', join(tmp.dir, 'contract.pdf'), join(tmp.dir, 'page.txt')]);
  if (process.env.DATABASE_URL) {
    const handle = await openTestDatabase();
    databaseUrl = handle.url;
    await handle.db.destroy();
    closeDatabase = handle.close;
  }
}, 300_000);

afterAll(async () => {
  await closeDatabase();
  tmp?.remove();
});

describe('the built server (node bin/sigil.js serve)', () => {
  let server: ChildProcess | undefined;
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const closed = new Promise((resolve) => server!.once('close', resolve));
      server.kill('SIGTERM');
      await closed;
    }
  });

  it('is ready only when the printed demo logins work, signs with keys in a PKCS#11 token, runs a contract and a batch', async () => {
    const port = await freePort();
    server = spawn(
      process.execPath,
      [sigilBin, 'serve', '--demo', '--port', String(port), '--data', join(tmp.dir, 'data')],
      {
        cwd: tmp.dir,
        env: childEnv({
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          // Jobs run (every 100 ms) so the outside signer's code reaches the SMS file.
          SIGIL_JOBS_POLL_MS: '100',
          SIGIL_SMS: 'file',
          SIGIL_SIGNER: 'pkcs11',
          SIGIL_PKCS11_MODULE: LIBRARY,
          SIGIL_PKCS11_TOKEN_LABEL: 'sigil-server',
          SIGIL_PKCS11_PIN: PIN,
          SIGIL_CA_KEY_SPEC: 'ECDSA-P256',
        }),
      },
    );
    let out = '';
    let err = '';
    server.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    server.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    let ended = 'still running';
    server.once('exit', (code, signal) => (ended = `exited with code ${code}, signal ${signal}`));
    // A request that fails says little by itself: the server's own words go with the failure.
    onTestFailed(() => console.error(`the built server ${ended}; its output:\n${out}\n${err}`));
    const base = `http://127.0.0.1:${port}`;

    // Poll /readyz; the moment it says 200, the printed logins must already work.
    const notReady: unknown[] = [];
    for (;;) {
      if (server.exitCode !== null) throw new Error(`the server exited ${server.exitCode}:\n${out}\n${err}`);
      const answer = await fetch(`${base}/readyz`).catch(() => null);
      if (answer?.status === 200) break;
      if (answer) notReady.push({ status: answer.status, body: await answer.json() });
      await sleep(25);
    }
    for (const seen of notReady)
      expect(seen).toMatchObject({ status: 503, body: { status: 'starting', waitingFor: ['demo seed'] } });
    const password = /^ {2}password: (\S+)$/m.exec(out)?.[1];
    expect(password, `ready before the demo logins were printed:\n${out}`).toBeTruthy();
    const signIn = await fetch(`${base}/api/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'employee@demo.sigil.local', password }),
    });
    expect(signIn.status).toBe(200);
    const { token } = (await signIn.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };

    const seals = (await (await fetch(`${base}/api/v1/me/seals?category=sales`, { headers: auth })).json()) as {
      items: Array<{ id: string; kind: string }>;
    };
    const seal = seals.items.find((s) => s.kind === 'electronic');
    expect(seal).toBeTruthy();
    const uploaded = await fetch(`${base}/api/v1/documents/uploads`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/pdf' },
      body: readFileSync(join(tmp.dir, 'contract.pdf')),
    });
    expect(uploaded.status).toBe(201);
    const { sha256 } = (await uploaded.json()) as { sha256: string };
    // B-T: the seal's key, the group and root CAs' and the TSA's are all made and used in the token.
    const signed = await fetch(`${base}/api/v1/signatures`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ documentSha256: sha256, sealId: seal!.id, category: 'sales', level: 'B-T' }),
    });
    const signature = (await signed.json()) as { id: string };
    expect(signed.status, JSON.stringify(signature)).toBe(201);

    const document = Buffer.from(
      await (await fetch(`${base}/api/v1/signatures/${signature.id}/document`, { headers: auth })).arrayBuffer(),
    );
    const rootCertificate = Buffer.from(await (await fetch(`${base}/pki/root/certificate`)).arrayBuffer());
    const seen = pdfsig(
      tmp.file('server-signed.pdf', document),
      nssDatabase(join(tmp.dir, 'server-nss'), rootCertificate),
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signatureValid: true, certificateTrusted: true, totalDocumentSigned: true });

    // What the modules provide each other at start-up (src/server/wiring.ts), in the built server:
    // the signed output is read through its original (documents ← signatures), an application is
    // made through its purpose (approvals ← its purposes), and the people on it may read the
    // document it names (documents ← approvals), while a colleague who is not on it may not.
    const { outputSha256 } = (await (
      await fetch(`${base}/api/v1/signatures/${signature.id}`, { headers: auth })
    ).json()) as { outputSha256: string };
    expect((await fetch(`${base}/api/v1/documents/${outputSha256}/pages`, { headers: auth })).status).toBe(200);
    const applied = await fetch(`${base}/api/v1/applications`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        sealIds: [seal!.id],
        category: 'sales',
        reason: 'built server: the purposes are wired',
        uses: 1,
        documents: [{ sha256, name: 'contract.pdf' }],
      }),
    });
    const application = (await applied.json()) as { id: string; tasks: Array<{ assigneeId: string }> };
    expect(applied.status, JSON.stringify(application)).toBe(201);
    const tokenOf = async (email: string) => {
      const answer = await fetch(`${base}/api/v1/auth/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      return { authorization: `Bearer ${((await answer.json()) as { token: string }).token}` };
    };
    const approver = await tokenOf('legal.head@demo.sigil.local');
    const approverMe = (await (await fetch(`${base}/api/v1/me`, { headers: approver })).json()) as {
      user: { id: string };
    };
    expect(application.tasks.map((t) => t.assigneeId)).toContain(approverMe.user.id);
    expect((await fetch(`${base}/api/v1/documents/${sha256}/pages`, { headers: approver })).status).toBe(200);
    const outsider = await fetch(`${base}/api/v1/documents/${sha256}/pages`, {
      headers: await tokenOf('finance1@demo.sigil.local'),
    });
    expect(outsider.status).toBe(404);
    expect(((await outsider.json()) as { code: string }).code).toBe('blob_not_found');

    // A contract in the built server: made from a seeded template (rendered with the bundled
    // font), signed first by an outside person (link, code by SMS, consent, a drawn signature under
    // a one-time certificate from the group CA, whose key is in the token), then sealed by us.
    const json = { ...auth, 'content-type': 'application/json' };
    const me = (await (await fetch(`${base}/api/v1/me`, { headers: auth })).json()) as { user: { id: string } };
    const templates = (await (await fetch(`${base}/api/v1/templates`, { headers: auth })).json()) as {
      items: Array<{ id: string; name: string }>;
    };
    const labour = templates.items.find((t) => t.name === '劳动合同');
    expect(labour, JSON.stringify(templates)).toBeTruthy();
    const example = seedTemplates.find((t) => t.key === 'labour-contract')!.example;
    const ownSeal = seals.items.find((s) => s.kind === 'electronic') as { id: string; companyId?: string };
    const created = await fetch(`${base}/api/v1/contracts`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        title: '劳动合同（构建版）',
        category: 'sales',
        template: { templateId: labour!.id, values: example },
        participants: [
          { role: 'signer', step: 1, kind: 'outside_person', name: '赵六', phone: '13700137000' },
          {
            role: 'signer',
            step: 2,
            kind: 'company',
            companyId: ownSeal.companyId,
            sealId: ownSeal.id,
            userId: me.user.id,
          },
        ],
        fields: [
          { participant: 0, type: 'signature', keyword: '乙方（签字）' },
          { participant: 1, type: 'company_seal', keyword: '甲方（盖章）' },
        ],
      }),
    });
    const contract = (await created.json()) as { id: string };
    expect(created.status, JSON.stringify(contract)).toBe(201);
    const sent = (await (
      await fetch(`${base}/api/v1/contracts/${contract.id}/send`, { method: 'POST', headers: json, body: '{}' })
    ).json()) as { invitations: Array<{ path: string }> };
    const link = sent.invitations[0]!.path.replace('/sign/', '');
    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${url}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    expect((await post(`/api/v1/signing/${link}/codes`, { channel: 'sms' })).status).toBe(200);
    const smsFile = join(tmp.dir, 'data', 'sms-outbox.jsonl');
    let code: string | undefined;
    for (let i = 0; i < 400 && !code; i++) {
      if (existsSync(smsFile)) code = /验证码 (\d{6})/.exec(readFileSync(smsFile, 'utf8'))?.[1];
      if (!code) await sleep(25);
    }
    expect(code, 'the code never reached the SMS file').toBeTruthy();
    const session = (await (
      await post(`/api/v1/signing/${link}/sessions`, { code, channel: 'sms', consent: true })
    ).json()) as { sessionToken: string };
    const ink = new PNG({ width: 120, height: 40 });
    for (let x = 10; x < 110; x++) ink.data.set([20, 20, 120, 255], (20 * 120 + x) * 4);
    const drawn = await post(
      '/api/v1/signing/session/signatures',
      { signatureImage: PNG.sync.write(ink).toString('base64') },
      { 'x-signing-session': session.sessionToken },
    );
    expect(drawn.status, await drawn.clone().text()).toBe(200);
    const sealed = await post(`/api/v1/contracts/${contract.id}/sign`, {}, auth);
    expect(sealed.status, await sealed.clone().text()).toBe(200);
    expect(((await sealed.json()) as { status: string }).status).toBe('completed');
    const final = Buffer.from(
      await (await fetch(`${base}/api/v1/contracts/${contract.id}/document`, { headers: auth })).arrayBuffer(),
    );
    const contractSeen = pdfsig(
      tmp.file('server-contract.pdf', final),
      nssDatabase(join(tmp.dir, 'server-nss-contract'), rootCertificate),
    );
    expect(contractSeen).toHaveLength(2);
    for (const one of contractSeen) expect(one).toMatchObject({ signatureValid: true, certificateTrusted: true });

    // A batch in the built server: the job runner signs on the compiled signing workers and keeps
    // the documents in one group's transaction; each output is its own signature, and pdfsig
    // trusts every one.
    const batchDocuments: string[] = [];
    for (const n of [1, 2, 3]) {
      const answer = await fetch(`${base}/api/v1/documents/uploads?name=invoice-${n}.pdf`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/pdf' },
        body: buildPdf({ lines: [`Invoice ${n} (built batch)`] }),
      });
      expect(answer.status).toBe(201);
      batchDocuments.push(((await answer.json()) as { sha256: string }).sha256);
    }
    const started = await post(
      '/api/v1/signatures/batches',
      { documents: batchDocuments, sealId: seal!.id, category: 'sales', level: 'B-T' },
      auth,
    );
    const batch = (await started.json()) as { id: string };
    expect(started.status, JSON.stringify(batch)).toBe(202);
    type BatchState = {
      status: string;
      signed: number;
      items: Array<{ status: string; signatureId: string | null; errorCode: string | null }>;
    };
    let state: BatchState | undefined;
    for (let i = 0; i < 400 && state?.status !== 'done'; i++) {
      if (i > 0) await sleep(50);
      state = (await (
        await fetch(`${base}/api/v1/signatures/batches/${batch.id}`, { headers: auth })
      ).json()) as BatchState;
    }
    expect(state?.status, JSON.stringify(state)).toBe('done');
    expect(state!.items.map((item) => item.status)).toEqual(['signed', 'signed', 'signed']);
    const signatureIds = new Set(state!.items.map((item) => item.signatureId));
    expect(signatureIds.size).toBe(3);
    for (const [n, item] of state!.items.entries()) {
      const output = Buffer.from(
        await (await fetch(`${base}/api/v1/signatures/${item.signatureId}/document`, { headers: auth })).arrayBuffer(),
      );
      const verdict = pdfsig(
        tmp.file(`server-batch-${n}.pdf`, output),
        nssDatabase(join(tmp.dir, `server-nss-batch-${n}`), rootCertificate),
      );
      expect(verdict).toHaveLength(1);
      expect(verdict[0]).toMatchObject({ signatureValid: true, certificateTrusted: true, totalDocumentSigned: true });
    }
  }, 300_000);
});

describe('the built CLI (node bin/sigil.js pdf sign --pkcs11)', () => {
  it('signs with a key that stays in the token; pdfsig and pdf verify accept it', async () => {
    // A CA and a seal certificate made by openssl; the seal's key is then moved into the token.
    const openssl = (...args: string[]) => run('openssl', args);
    const file = (name: string) => join(tmp.dir, name);
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      '30',
      '-subj',
      '/CN=Built Test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
    openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file('seal.key'));
    openssl(
      'req',
      '-new',
      '-key',
      file('seal.key'),
      '-out',
      file('seal.csr'),
      '-subj',
      '/CN=Built Test Seal/O=Built Test Ltd',
    );
    tmp.file('seal.ext', 'keyUsage=critical,digitalSignature,nonRepudiation\n');
    openssl(
      'x509',
      '-req',
      '-in',
      file('seal.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '30',
      '-out',
      file('seal.pem'),
      '-extfile',
      file('seal.ext'),
    );
    run('softhsm2-util', [
      '--import',
      file('seal.key'),
      '--token',
      'sigil-cli',
      '--label',
      'seal',
      '--id',
      '0a',
      '--pin',
      PIN,
    ]);
    openssl('x509', '-in', file('ca.pem'), '-outform', 'DER', '-out', file('ca.der'));

    const signed = await sigil(
      [
        'pdf',
        'sign',
        file('contract.pdf'),
        file('cli-signed.pdf'),
        '--pkcs11',
        LIBRARY,
        '--token',
        'sigil-cli',
        '--key-label',
        'seal',
        '--pin',
        PIN,
        '--cert',
        file('seal.pem'),
        '--cert',
        file('ca.pem'),
        '--reason',
        'approved',
      ],
      {},
    );
    expect(signed, signed.err).toMatchObject({ status: 0 });
    const seen = pdfsig(file('cli-signed.pdf'), nssDatabase(join(tmp.dir, 'cli-nss'), readFileSync(file('ca.der'))));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signatureValid: true, certificateTrusted: true, totalDocumentSigned: true });
    const verified = await sigil(['pdf', 'verify', file('cli-signed.pdf'), '--trust', file('ca.pem')], {});
    expect(verified.status, verified.out + verified.err).toBe(0);
    expect(verified.out).toContain('Built Test Seal');

    const wrongPin = await sigil(
      [
        'pdf',
        'sign',
        file('contract.pdf'),
        file('x.pdf'),
        '--pkcs11',
        LIBRARY,
        '--token',
        'sigil-cli',
        '--pin',
        '000000',
        '--cert',
        file('seal.pem'),
      ],
      {},
    );
    expect(wrongPin.status).toBe(2);
    expect(existsSync(file('x.pdf'))).toBe(false);
  }, 120_000);

  it('signs on several token sessions at once under plain Node, every signature right', async () => {
    // The compiled signer must tell the module it is used from several threads (C_Sign runs on
    // libuv's threads): without it SoftHSM2 takes no locks and the process crashes.
    const script = `
      const e = await import(${JSON.stringify(new URL('../dist/signing/index.js', import.meta.url).href)});
      const { createPublicKey, createVerify } = await import('node:crypto');
      const [library, pin] = process.argv.slice(1);
      const token = { library, tokenLabel: 'sigil-cli', pin };
      await e.generatePkcs11KeyPair({ ...token, spec: 'ECDSA-P256', label: 'threads', id: Buffer.from('0b', 'hex') });
      const open = () => e.openPkcs11KeySigner({ ...token, keyId: '0b' });
      const signers = [open(), open(), open(), open()];
      const opened = [];
      const jobs = [];
      for (let round = 0; round < 150; round++) {
        for (const signer of signers) {
          const data = Buffer.from('round ' + round);
          const key = createPublicKey({ key: signer.publicKey, format: 'der', type: 'spki' });
          jobs.push(signer.sign(data, 'SHA-256').then((signature) =>
            createVerify('SHA256').update(data).verify({ key, dsaEncoding: 'der' }, signature)));
        }
        opened.push(open());
      }
      const verified = (await Promise.all(jobs)).filter(Boolean).length;
      for (const signer of [...signers, ...opened]) signer.close();
      console.log(JSON.stringify({ signed: jobs.length, verified }));
    `;
    const result = await new Promise<{ status: number | null; signal: string | null; out: string; err: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, LIBRARY, PIN], {
          cwd: tmp.dir,
          env: childEnv({}),
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
        child.once('error', reject);
        child.once('close', (status, signal) => resolve({ status, signal, out, err }));
      },
    );
    expect(result, result.err).toMatchObject({ status: 0, signal: null });
    expect(JSON.parse(result.out)).toEqual({ signed: 600, verified: 600 });
  }, 120_000);
});

describe('the built CLI for OFD, seals and devices (sm-crypto-v2, fast-xml-parser and fontkit under plain Node)', () => {
  const fixture = (name: string) => join(import.meta.dirname, 'fixtures', 'ofd', name);

  it('verifies an OFD signed by ofdrw and refuses it after one byte of a signed page changes', async () => {
    const valid = await sigil(['ofd', 'verify', fixture('v4signed.ofd'), '--json'], {});
    expect(valid.status, valid.err).toBe(0);
    expect(JSON.parse(valid.out).valid).toBe(true);
    // The same package with one page's content changed (Python's zipfile rewrites the entry).
    const changed = join(tmp.dir, 'v4signed-changed.ofd');
    run('python3', [
      '-c',
      [
        'import sys, zipfile',
        'src, dst = sys.argv[1], sys.argv[2]',
        'with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as b:',
        '    for i in a.infolist():',
        '        data = a.read(i.filename)',
        '        if i.filename.endswith("Content.xml"): data = data.replace(b"<", b" <", 1)',
        '        b.writestr(i, data)',
      ].join('\n'),
      fixture('v4signed.ofd'),
      changed,
    ]);
    const refused = await sigil(['ofd', 'verify', changed], {});
    expect(refused.status, refused.out).toBe(1);
    expect(refused.out).toContain('Content.xml');
  });

  it('inspects a GB/T 38540 seal: valid in its window, refused after it', async () => {
    const within = await sigil(['seal', 'esl', 'inspect', fixture('UserV4.esl'), '--at', '2021-01-01'], {});
    expect(within.status, within.err).toBe(0);
    const after = await sigil(['seal', 'esl', 'inspect', fixture('UserV4.esl'), '--at', '2023-01-01'], {});
    expect(after.status).toBe(1);
  });

  it("runs the smart seal's story: three stamps, the fourth refused, no findings", async () => {
    const story = await sigil(['device', 'simulate'], {});
    expect(story.status, story.err).toBe(0);
    expect(story.out).toContain('presses the seal (4)');
    expect(story.out).toContain('the seal stays locked');
    expect(story.out).toContain("approver's review: 3 stamp(s) of 3 approved");
    expect(story.out).toContain('findings: none');
  }, 120_000);

  it('reconciles a log of forty-odd events, its signatures checked on worker threads, and flags the tampering', async () => {
    // Past 24 events a sync's device signatures go to the worker pool, whose code is a string the
    // built server evaluates: this runs that path from dist/.
    const story = await sigil(['device', 'simulate', '--uses', '20', '--tamper'], {});
    expect(story.status, story.err).toBe(0);
    expect(story.out).toContain("approver's review: 20 stamp(s) of 20 approved");
    expect(story.out).toMatch(/\[critical\] stamp_without_ticket: Stamp at event \d+ was made with no ticket/);
    expect(story.out).not.toContain('signature_invalid');
  }, 120_000);
});

describe('the built signing pool (dist/signing under plain Node)', () => {
  it('signs on a worker thread that loads the compiled worker, and the signature verifies', async () => {
    // The pool's worker file is found next to the compiled pool, without tsx: a missing or
    // unloadable dist/signing/pdf-sign-worker.js fails the signature.
    const script = `
      const e = await import(${JSON.stringify(new URL('../dist/signing/index.js', import.meta.url).href)});
      const { readFileSync, writeFileSync } = await import('node:fs');
      const rootKey = e.createKeySigner(await e.generateKey('ECDSA-P256'));
      const root = await e.createRootCa({ signer: rootKey, subject: { commonName: 'Built Pool Root', organization: 'Sigil Test', country: 'CN' } });
      const keySigner = e.createKeySigner(await e.generateKey('RSA-2048'));
      const certificate = await e.issueSealCertificate({ issuer: { signer: rootKey, certificate: root }, subject: { commonName: 'Built Pool Seal', organization: 'Sigil Test' }, publicKey: keySigner.publicKey });
      const pool = e.createPdfSigningPool(1);
      const signed = await pool.signPdf(readFileSync(process.argv[1]), { signer: e.withCertificate(keySigner, certificate, [root]), fieldName: 'BuiltPool' });
      writeFileSync(process.argv[2], signed);
      writeFileSync(process.argv[3], root);
      const report = await e.verifyPdf(signed, { trustAnchors: [root] });
      await pool.close();
      console.log(JSON.stringify({ size: pool.size, valid: report.signatures[0].valid }));
    `;
    const signedFile = join(tmp.dir, 'built-pool.pdf');
    const rootFile = join(tmp.dir, 'built-pool-root.der');
    const result = await new Promise<{ status: number; out: string; err: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--input-type=module', '-e', script, join(tmp.dir, 'contract.pdf'), signedFile, rootFile],
        { cwd: tmp.dir, env: childEnv({}) },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status: status ?? -1, out, err }));
    });
    expect(result.status, result.err).toBe(0);
    expect(JSON.parse(result.out)).toEqual({ size: 1, valid: true });
    const seen = pdfsig(signedFile, nssDatabase(join(tmp.dir, 'built-pool-nss'), readFileSync(rootFile)));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ signatureValid: true, certificateTrusted: true, field: 'BuiltPool' });
  }, 120_000);
});

describe.runIf(Boolean(process.env.DATABASE_URL))(
  'the built audit verification on PostgreSQL (its COPY reader under plain Node)',
  () => {
    it('reads the chain with COPY on worker threads from dist/, finds it intact, then finds an event rewritten', async () => {
      // The workers' code is a string the built module evaluates, finding pg from dist/ and
      // reading COPY off its socket: this runs that path under plain Node, on a log of a group of
      // this test's own.
      const handle = await openTestDatabase();
      const group = '0193a000-0000-7000-8000-0000000b0117';
      try {
        const { sql } = await import('kysely');
        await sql`insert into groups (id, name, slug, sod_matrix) values (${group}, 'Built', 'built', '[]')`.execute(
          handle.db,
        );
        await sql`
        with added as (
          insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_name, action, target_type, changes)
          select ${group}, nextval('audit_event_seq'), md5('built' || i)::uuid, now(), 'system', '审批 "' || i || '"',
                 'application.task_approved', 'application', jsonb_build_object('level', i)
          from generate_series(1, 300) as i
          returning seq
        )
        insert into audit_pending (group_id, seq) select ${group}, seq from added
      `.execute(handle.db);
        const script = `
        const dist = ${JSON.stringify(join(import.meta.dirname, '..', 'dist'))};
        const { openDatabase } = await import(dist + '/db/database.js');
        const { chainVerifyPoolOf } = await import(dist + '/modules/audit/audit.verify-pool.js');
        const { verifyChain } = await import(dist + '/modules/audit/audit.verify.js');
        const handle = await openDatabase({ databaseUrl: ${JSON.stringify(handle.url)}, poolSize: 4 });
        const report = await verifyChain(handle.db, ${JSON.stringify(group)});
        const clean = await chainVerifyPoolOf(handle.db).check({
          kind: 'links', groupId: ${JSON.stringify(group)}, after: 0, through: 300, previousHash: '0'.repeat(64),
        });
        await handle.close();
        process.stdout.write(JSON.stringify({ report, clean }));
      `;
        const verify = () =>
          new Promise<{ report: { intact: boolean; firstProblem: { kind: string } | null }; clean: boolean }>(
            (resolve, reject) => {
              const child = spawn(process.execPath, [tmp.file('verify-audit.mjs', script)], { cwd: tmp.dir });
              let out = '';
              let err = '';
              child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
              child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
              child.once('close', (status) =>
                status === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${status}: ${err}`)),
              );
            },
          );
        const intact = await verify();
        expect(intact).toEqual({ report: expect.objectContaining({ intact: true, checked: 300 }), clean: true });
        await sql`update audit_events set actor_name = 'someone else' where group_id = ${group} and id = md5('built150')::uuid`.execute(
          handle.db,
        );
        const rewritten = await verify();
        expect(rewritten.clean).toBe(false);
        expect(rewritten.report.intact).toBe(false);
        expect(rewritten.report.firstProblem?.kind).toBe('altered');
      } finally {
        await handle.close();
      }
    }, 120_000);
  },
);
