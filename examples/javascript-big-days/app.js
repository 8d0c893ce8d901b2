// big-days-js: a costwatch rule plugin written in JavaScript, built with ComponentizeJS
// against wit/v0.2.0 (see README.md). A day well above the median of the known days before it.
//
// Without an SDK the interface's types are plain objects: records with camelCase fields,
// variants as { tag, val }, enums as strings, list<f64> as a Float64Array. A thrown
// { tag: 'bad-config', val: '...' } is the rule's error; any other exception is reported to
// the host with reportCrash before the guest stops.
import { reportCrash } from 'costwatch:rule/host@0.2.0';

const SETTINGS = [
  { name: 'ratio', kind: 'number', defaultValue: { tag: 'number', val: 3 }, description: 'fire when the day costs this many times the baseline', min: 1, max: undefined },
  { name: 'min_daily', kind: 'number', defaultValue: { tag: 'number', val: 10 }, description: 'ignore days cheaper than this (dollars)', min: 0, max: undefined },
];

function settings(config) {
  const out = Object.fromEntries(SETTINGS.map((s) => [s.name, s.defaultValue.val]));
  for (const [name, value] of config) {
    const s = SETTINGS.find((s) => s.name === name);
    if (!s) throw { tag: 'bad-config', val: `unknown setting ${name}; this rule takes ratio, min_daily` };
    if (s.min !== undefined && value.val < s.min) throw { tag: 'bad-config', val: `${name} = ${value.val}: must be at least ${s.min}` };
    out[name] = value.val;
  }
  return out;
}

function median(xs) {
  const s = Array.from(xs).sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// Report any exception the runtime cannot return before the guest stops.
function guarded(f) {
  try {
    return f();
  } catch (e) {
    if (e && e.tag) throw e;
    // The innermost frame of the stack, `check@app.js:12:5`, is where it happened.
    const location = e?.stack?.split('\n')[0]?.split('@')[1];
    reportCrash({ kind: e?.name ?? 'Error', message: String(e?.message ?? e), location, trace: e?.stack });
    throw e;
  }
}

export const rule = {
  info() {
    return {
      id: 'big-days-js',
      version: '0.1.0',
      description: 'a day well above the median of the days before it',
      configSchema: SETTINGS,
      needs: { historyDays: 90, dimensions: [], usageTypes: [] },
    };
  },
  validateConfig(config) {
    guarded(() => settings(config));
  },
  evaluate(context, batch) {
    return guarded(() => {
      const { ratio, min_daily } = settings(context.config);
      const found = [];
      for (const s of batch) {
        // Known days only: the zeros before the first billing day are not spend.
        const known = s.amounts.subarray(s.knownFrom);
        const today = known[known.length - 1] ?? 0;
        const base = median(known.subarray(0, known.length - 1));
        if (!(base > 0) || today < min_daily || today < ratio * base) continue;
        found.push({
          key: s.key,
          severity: 'warning',
          observed: today,
          expected: base,
          score: today / base,
          monthlyImpact: (today - base) * 30.4,
          message: `${s.key.usageType} in account ${s.key.account} cost $${today.toFixed(2)} on ${context.day}, ${(today / base).toFixed(1)}× its usual $${base.toFixed(2)}`,
          detail: undefined,
          action: { tag: 'notify' },
        });
      }
      return found;
    });
  },
};
