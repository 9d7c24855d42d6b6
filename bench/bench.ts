/** One benchmark: a claim measured as a ratio against a baseline taken in the same run. */
export interface Bench {
  name: string;
  claim: string;
  /** The ratio the claim needs (≤ unless `higherIsBetter`). */
  target: number;
  higherIsBetter?: boolean;
  /** Which run's ratio meets the target: the median (default) or, for "never" claims, the worst. */
  judgeBy?: 'median' | 'max';
  /** One measurement: the ratio and whatever numbers explain it. */
  run(): Promise<{ ratio: number } & Record<string, number | string>>;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
