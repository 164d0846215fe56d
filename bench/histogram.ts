/**
 * Log-bucket histogram for latencies in nanoseconds (HDR-style): values below
 * 32 get a bucket each; above, every power of two is split into 32 linear
 * sub-buckets, so a reported percentile is within ~3% of the true value.
 * Fixed memory (a Float64Array of ~1.2k slots), O(1) record, and mergeable
 * across worker processes through toJSON()/fromJSON().
 */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
/** 2^45 ns ≈ 9.8 h: anything longer is clamped into the last bucket. */
const MAX_EXP = 45;
const BUCKETS = SUB + (MAX_EXP - SUB_BITS + 1) * SUB;

export interface HistogramJson {
  /** [bucket index, count] for every non-empty bucket. */
  buckets: Array<[number, number]>;
  count: number;
  sum: number;
  min: number;
  max: number;
}

function bucketOf(value: number): number {
  const v = Math.floor(value);
  if (v < SUB) return v < 0 ? 0 : v;
  const exp = Math.min(MAX_EXP, Math.floor(Math.log2(v)));
  const sub = Math.min(SUB - 1, Math.floor(v / 2 ** (exp - SUB_BITS)) - SUB);
  return SUB + (exp - SUB_BITS) * SUB + sub;
}

/** [low, high) of a bucket. */
function boundsOf(index: number): [number, number] {
  if (index < SUB) return [index, index + 1];
  const exp = Math.floor((index - SUB) / SUB) + SUB_BITS;
  const sub = (index - SUB) % SUB;
  const width = 2 ** (exp - SUB_BITS);
  const low = (SUB + sub) * width;
  return [low, low + width];
}

export class LogHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  record(value: number): void {
    this.counts[bucketOf(value)]++;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
  }

  /** The value below which `p` percent of the recorded values lie (bucket midpoint, clamped to the exact min/max); NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        const [low, high] = boundsOf(i);
        return Math.min(this.max, Math.max(this.min, (low + high) / 2));
      }
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  merge(other: LogHistogram | HistogramJson): this {
    const json = other instanceof LogHistogram ? other.toJSON() : other;
    for (const [index, n] of json.buckets) this.counts[index] += n;
    this.count += json.count;
    this.sum += json.sum;
    if (json.count > 0) {
      this.min = Math.min(this.min, json.min);
      this.max = Math.max(this.max, json.max);
    }
    return this;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  toJSON(): HistogramJson {
    const buckets: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) buckets.push([i, this.counts[i]]);
    return { buckets, count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.count ? this.max : 0 };
  }

  static fromJSON(json: HistogramJson): LogHistogram {
    return new LogHistogram().merge(json);
  }
}
