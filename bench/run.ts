/**
 * `npm run bench [-- <name> …] [--runs N]`: each claim measured as a ratio against a baseline in the
 * same run, several times; prints min, median and max of each ratio. Never run in CI.
 */
import { median, type Bench } from './bench';
import { callsBench } from './calls';
import { cliBench } from './cli';
import { coldStartBench } from './cold-start';
import { concurrentBench } from './concurrent';
import { clickToRejectedBench, issuerLimitBench } from './emergency';
import { inventoryBench } from './inventory';
import { notifyBench } from './notify';
import { runSavesBench } from './run-saves';
import { segmentCallsBench } from './segment-calls';
import { waitsBench } from './waits';
import { criticalPathBench } from './critical-path';
import { ackBurstBench } from './web';
import { webRssBench, webStartBench, workerRssBench } from './web-role';

const BENCHES: Bench[] = [
  waitsBench,
  clickToRejectedBench,
  issuerLimitBench,
  ackBurstBench,
  callsBench,
  concurrentBench,
  segmentCallsBench,
  criticalPathBench,
  inventoryBench,
  notifyBench,
  runSavesBench,
  cliBench,
  webRssBench,
  webStartBench,
  coldStartBench,
  workerRssBench,
];

async function main(argv: string[]): Promise<void> {
  const runsAt = argv.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(argv[runsAt + 1]) : 3;
  const names = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--runs');
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0 || !(runs >= 1)) {
    console.error(`usage: npm run bench -- [${BENCHES.map((b) => b.name).join(' | ')}] [--runs N]`);
    process.exit(2);
  }
  for (const bench of BENCHES.filter((b) => names.length === 0 || names.includes(b.name))) {
    const ratios: number[] = [];
    for (let i = 0; i < runs; i++) {
      const m = await bench.run();
      ratios.push(m.ratio);
      console.error(JSON.stringify({ bench: bench.name, run: i + 1, ...m }));
    }
    const med = median(ratios);
    const judged = bench.judgeBy === 'max' ? Math.max(...ratios) : med;
    const met = bench.higherIsBetter ? judged >= bench.target : judged <= bench.target;
    console.log(
      JSON.stringify({
        bench: bench.name,
        claim: bench.claim,
        runs,
        min: Number(Math.min(...ratios).toFixed(3)),
        median: Number(med.toFixed(3)),
        max: Number(Math.max(...ratios).toFixed(3)),
        target: `${bench.higherIsBetter ? '≥' : '≤'} ${bench.target}`,
        met,
      }),
    );
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).message}`);
  process.exit(1);
});
