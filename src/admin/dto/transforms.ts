import { Transform } from 'class-transformer';

/** Query strings carry text: `true`/`1` and `false`/`0` become booleans; anything else stays for IsBoolean to refuse. */
export const BooleanString = () =>
  Transform(({ value }) => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    return value;
  });

/** `?limit=50` → 50; a non-number stays text for IsInt to refuse by name. */
export const NumberString = () =>
  Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value));
