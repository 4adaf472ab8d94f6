import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { after, before, describe, test } from 'node:test';
import { RawFtp, readAll } from '../support/raw-ftp.ts';
import { AttackWatch, startAbuseBridge, type AbuseBridge } from '../support/abuse-bridge.ts';
import { recordCase, round, summarize } from '../support/abuse-figures.ts';

/**
 * Case 1: LIST/NLST patterns built to backtrack. One file named `redos/` + 100 × `a`;
 * `LIST redos/*a*a*a*a*a*b` took 13 s with the regex matcher and froze every other
 * session. Here four clients send it, and the longest pattern allowed built the same
 * way, over and over.
 */
const ATTACKERS = 4;
const ROUNDS = 5;
const NAME = 'a'.repeat(100);
const PATTERNS = ['redos/*a*a*a*a*a*b', `redos/${'*a'.repeat(120)}*b`, `redos/*${NAME}`];
/** A backtracking matcher needs 13 s for the first pattern alone; a loaded machine gets room below that. */
const LISTING_BUDGET_MS = 5000;

async function listing(ftp: RawFtp, command: string): Promise<string[]> {
  const data = await ftp.passive();
  await ftp.command(command, 150);
  const body = (await readAll(data)).toString();
  await ftp.expect(226);
  return body.split('\r\n').filter(Boolean);
}

describe('case 1: LIST patterns that make backtracking matchers exponential', () => {
  let bridge: AbuseBridge;
  before(async () => {
    bridge = await startAbuseBridge({ users: [{ username: 'mallory', password: 'evil' }] });
    await bridge.s3.client.send(new PutObjectCommand({ Bucket: bridge.s3.bucket, Key: `mallory/redos/${NAME}`, Body: 'x' }));
  });
  after(() => bridge.stop());

  test(`${ATTACKERS} clients × ${ROUNDS} rounds of ${PATTERNS.length} pathological patterns against a 100-character name`, async () => {
    const attackers = await Promise.all(
      Array.from({ length: ATTACKERS }, (_, index) => RawFtp.login(bridge.child.port, 'mallory', 'evil', { localAddress: `127.0.1.${index + 1}` })),
    );
    const watch = await AttackWatch.start(bridge.child);
    const listingMs: number[] = [];
    const results = await Promise.all(
      attackers.map(async (ftp) => {
        const names: string[][] = [];
        for (let round = 0; round < ROUNDS; round++) {
          for (const pattern of PATTERNS) {
            const started = performance.now();
            names.push(await listing(ftp, `NLST ${pattern}`));
            listingMs.push(performance.now() - started);
          }
        }
        return names;
      }),
    );
    const tooLong = await attackers[0]!.command(`LIST redos/${'*a'.repeat(129)}`);
    const phase = await watch.end();
    await Promise.all(attackers.map((ftp) => ftp.close()));
    const listings = summarize(listingMs);
    await recordCase({
      case: '1',
      title: 'LIST/NLST backtracking patterns',
      rssMiB: { ...phase.rssMiB, after: await watch.settle() },
      bystanderMs: phase.bystanderMs,
      notes: { listings: listings.samples, 'listing p50 ms': listings.p50, 'listing max ms': round(listings.max) },
    });

    for (const names of results) {
      // Only the literal pattern matches; the backtracking ones match nothing, quickly.
      assert.deepEqual(names.slice(0, PATTERNS.length), [[], [], [`redos/${NAME}`]]);
    }
    assert.ok(listings.max < LISTING_BUDGET_MS, `a listing took ${listings.max} ms`);
    assert.ok(phase.bystanderMs.max < LISTING_BUDGET_MS, `the bystander waited ${phase.bystanderMs.max} ms`);
    assert.equal(tooLong.code, 501, 'patterns past 256 characters are refused');
  });
});
