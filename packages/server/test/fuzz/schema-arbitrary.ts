// A small JSON-Schema (OpenAPI 3.0 flavour) → fast-check converter, for the subset the contract
// uses: type, enum, const, properties/required, additionalProperties, items/minItems/maxItems/
// uniqueItems, nullable, minimum/maximum, minLength/maxLength, pattern, format (date-time, email,
// uri, int32/int64, byte, binary), oneOf/anyOf/allOf and `$ref` into the document.
//
// `validArbitrary` draws values meant to satisfy the schema; `invalidArbitrary` draws values meant
// to break it (wrong type, missing required property, beyond maxLength and 100 kB, outside
// minimum/maximum, outside the enum, pattern mismatch, unknown property, too many items). The
// caller classifies every drawn value with the contract's own validator, so a generator slip can
// only lose a case, never mislabel one.
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Schema = { [k: string]: Json };

/** 100 kB: the "oversized string" of the fuzzer. */
export const HUGE = 100 * 1024;
/** Upper bound of generated string lengths when the schema has no maxLength (keeps requests small). */
const SOFT_MAX_LENGTH = 48;
const MAX_DEPTH = 6;

export class SchemaGen {
  constructor(private readonly doc: Schema) {}

  /** Follows `$ref` chains (any JSON pointer into the document). */
  deref(schema: Json | undefined): Schema {
    let cur = (schema ?? {}) as Schema;
    for (let i = 0; i < 20 && typeof cur.$ref === 'string'; i++) {
      const ref = (cur.$ref as string).replace(/^https:\/\/hearth\.invalid\/contract\/schemas\//, '#/components/schemas/');
      const parts = ref.replace(/^#\//, '').split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      let next: Json = this.doc;
      for (const p of parts) next = (next as Schema)[p] as Json;
      cur = (next ?? {}) as Schema;
    }
    return cur;
  }

  /** allOf flattened into one schema (properties and required merged). */
  flatten(schema: Json | undefined): Schema {
    const s = this.deref(schema);
    if (!Array.isArray(s.allOf)) return s;
    const out: Schema = { ...s };
    delete out.allOf;
    const props: Schema = { ...((s.properties as Schema | undefined) ?? {}) };
    const required = new Set<string>((s.required as string[] | undefined) ?? []);
    for (const part of s.allOf) {
      const f = this.flatten(part);
      for (const [k, v] of Object.entries(f)) {
        if (k === 'properties') Object.assign(props, v as Schema);
        else if (k === 'required') for (const r of v as string[]) required.add(r);
        else if (!(k in out)) out[k] = v;
      }
    }
    if (Object.keys(props).length) out.properties = props;
    if (required.size) out.required = [...required];
    return out;
  }

  typesOf(schema: Schema): string[] {
    if (typeof schema.type === 'string') return [schema.type];
    if (Array.isArray(schema.type)) return schema.type as string[];
    if (schema.properties || schema.additionalProperties !== undefined) return ['object'];
    if (schema.items) return ['array'];
    return [];
  }

  validArbitrary(schema: Json | undefined, depth = 0): fc.Arbitrary<unknown> {
    const s = this.flatten(schema);
    const base = this.validBase(s, depth);
    return s.nullable === true ? fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 5, arbitrary: base }) : base;
  }

  private validBase(s: Schema, depth: number): fc.Arbitrary<unknown> {
    if ('const' in s) return fc.constant(s.const);
    if (Array.isArray(s.enum)) return fc.constantFrom(...(s.enum as unknown[]));
    const alternatives = (s.oneOf ?? s.anyOf) as Json[] | undefined;
    if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((a) => this.validArbitrary(a, depth + 1)));
    const types = this.typesOf(s);
    if (types.length === 0) return depth > 2 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
    return fc.oneof(...types.map((t) => this.validOfType(t, s, depth)));
  }

  private validOfType(type: string, s: Schema, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'string':
        return this.validString(s);
      case 'integer': {
        const wide = s.format === 'int32' ? 2 ** 31 - 1 : Number.MAX_SAFE_INTEGER;
        const min = typeof s.minimum === 'number' ? Math.ceil(s.minimum) : -wide;
        const max = typeof s.maximum === 'number' ? Math.floor(s.maximum) : wide;
        const small = { min: Math.max(min, Math.min(max, -1000)), max: Math.min(max, Math.max(min, 1000)) };
        return fc.oneof(fc.integer(small), fc.integer({ min, max }));
      }
      case 'number': {
        const min = typeof s.minimum === 'number' ? s.minimum : -1e12;
        const max = typeof s.maximum === 'number' ? s.maximum : 1e12;
        return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
      }
      case 'boolean':
        return fc.boolean();
      case 'null':
        return fc.constant(null);
      case 'array': {
        const minLength = typeof s.minItems === 'number' ? s.minItems : 0;
        const maxLength = Math.max(minLength, Math.min(typeof s.maxItems === 'number' ? s.maxItems : 4, 4));
        if (depth > MAX_DEPTH) return fc.constant([]);
        const item = this.validArbitrary(s.items, depth + 1);
        return s.uniqueItems
          ? fc.uniqueArray(item, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
          : fc.array(item, { minLength, maxLength });
      }
      case 'object':
      default: {
        if (depth > MAX_DEPTH) return fc.constant({});
        const props = (s.properties as Schema | undefined) ?? {};
        const required = ((s.required as string[] | undefined) ?? []).filter((r) => r in props);
        const model: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [k, v] of Object.entries(props)) model[k] = this.validArbitrary(v, depth + 1);
        const known = fc.record(model, { requiredKeys: required });
        const ap = s.additionalProperties;
        let extra: fc.Arbitrary<Record<string, unknown>> = fc.constant({});
        if (ap && typeof ap === 'object') {
          extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in props)), this.validArbitrary(ap, depth + 1), { maxKeys: 3 });
        } else if (ap === true || (ap === undefined && Object.keys(props).length === 0)) {
          extra = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in props)), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });
        }
        return fc.tuple(known, extra).map(([k, e]) => ({ ...e, ...k }));
      }
    }
  }

  private validString(s: Schema): fc.Arbitrary<string> {
    const minLength = typeof s.minLength === 'number' ? s.minLength : 0;
    const maxLength = typeof s.maxLength === 'number' ? s.maxLength : undefined;
    const fits = (v: string) => v.length >= minLength && (maxLength === undefined || v.length <= maxLength);
    if (typeof s.pattern === 'string') {
      return fc.stringMatching(new RegExp(s.pattern as string), { maxLength: Math.min(maxLength ?? 64, 64) }).filter(fits);
    }
    switch (s.format) {
      case 'date-time':
        return fc
          .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
          .map((d) => d.toISOString());
      case 'email':
        return fc.emailAddress().filter(fits);
      case 'uri':
        return fc.webUrl({ withQueryParameters: true }).filter(fits);
      case 'byte':
        return fc.base64String({ maxLength: 64 }).filter(fits);
      default: {
        const soft = Math.max(minLength, Math.min(maxLength ?? SOFT_MAX_LENGTH, SOFT_MAX_LENGTH));
        const sized = (unit: 'grapheme-ascii' | 'grapheme' | 'binary') => fc.string({ unit, minLength, maxLength: soft });
        const arbs: fc.Arbitrary<string>[] = [sized('grapheme-ascii'), sized('grapheme-ascii'), sized('grapheme'), sized('binary')];
        // Right at the limit, and (when the schema allows it) a 100 kB string.
        if (maxLength !== undefined && maxLength <= 10_000) arbs.push(fc.constant('x'.repeat(maxLength)));
        if (maxLength === undefined) arbs.push(fc.constant('y'.repeat(HUGE)));
        return fc.oneof(...arbs).filter(fits);
      }
    }
  }

  /**
   * Values that break the schema, or null when the schema accepts everything. Each value comes
   * with a short reason (`wrong type`, `missing required x`, `maxLength+1 at a.b`…).
   */
  invalidArbitrary(schema: Json | undefined, where = '', depth = 0): fc.Arbitrary<{ value: unknown; reason: string }> | null {
    const s = this.flatten(schema);
    const at = where || '(root)';
    const out: fc.Arbitrary<{ value: unknown; reason: string }>[] = [];
    const tag = (reason: string) => (value: unknown) => ({ value, reason });
    const types = this.typesOf(s);
    const alternatives = (s.oneOf ?? s.anyOf) as Json[] | undefined;
    const allTypes = Array.isArray(alternatives)
      ? [...new Set(alternatives.flatMap((a) => this.typesOf(this.flatten(a))))]
      : types;
    if (allTypes.length > 0 || Array.isArray(s.enum) || 'const' in s) {
      const wrong: fc.Arbitrary<unknown>[] = [];
      const has = (t: string) => allTypes.includes(t) || (t === 'number' && allTypes.includes('integer'));
      if (!has('string')) wrong.push(fc.constantFrom('', 'abc', '12', 'true'));
      if (!has('integer') && !has('number')) wrong.push(fc.integer({ min: -5, max: 5 }));
      if (has('integer')) wrong.push(fc.constant(1.5));
      if (!has('boolean')) wrong.push(fc.boolean());
      if (!has('object')) wrong.push(fc.constant({ x: 1 }));
      if (!has('array')) wrong.push(fc.constant(['a', 1]));
      if (s.nullable !== true && !allTypes.includes('null')) wrong.push(fc.constant(null));
      if (wrong.length) out.push(fc.oneof(...wrong).map(tag(`wrong type at ${at}`)));
    }
    if (Array.isArray(s.enum)) {
      out.push(fc.string({ minLength: 1, maxLength: 12 }).filter((v) => !(s.enum as Json[]).includes(v)).map(tag(`not in enum at ${at}`)));
    }
    if (Array.isArray(alternatives)) return out.length ? fc.oneof(...out) : null;
    if (types.includes('string') && !Array.isArray(s.enum) && !('const' in s)) {
      if (typeof s.maxLength === 'number') {
        const max = s.maxLength;
        out.push(fc.integer({ min: max + 1, max: max + 10 }).map((n) => 'a'.repeat(n)).map(tag(`maxLength+ at ${at}`)));
        if (max < HUGE) out.push(fc.constant('z'.repeat(HUGE)).map(tag(`100 kB string at ${at}`)));
      }
      if (typeof s.minLength === 'number' && s.minLength > 0) out.push(fc.constant('').map(tag(`below minLength at ${at}`)));
      if (typeof s.pattern === 'string') {
        const re = new RegExp(s.pattern as string);
        out.push(fc.string({ minLength: 1, maxLength: 20 }).filter((v) => !re.test(v)).map(tag(`pattern mismatch at ${at}`)));
      }
      if (s.format === 'date-time') out.push(fc.constantFrom('yesterday', '2024-13-45T99:00:00Z').map(tag(`bad date-time at ${at}`)));
      if (s.format === 'email') out.push(fc.constantFrom('not-an-email', 'a@', '@b').map(tag(`bad email at ${at}`)));
    }
    if (types.includes('integer') || types.includes('number')) {
      if (typeof s.minimum === 'number') out.push(fc.constant(s.minimum - 1).map(tag(`below minimum at ${at}`)));
      if (typeof s.maximum === 'number') out.push(fc.constant(s.maximum + 1).map(tag(`above maximum at ${at}`)));
    }
    if (types.includes('array')) {
      if (typeof s.maxItems === 'number' && s.maxItems < 2000) {
        const item = this.validArbitrary(s.items, depth + 1);
        out.push(fc.array(item, { minLength: (s.maxItems as number) + 1, maxLength: (s.maxItems as number) + 3 }).map(tag(`too many items at ${at}`)));
      }
      const badItem = depth < MAX_DEPTH ? this.invalidArbitrary(s.items, `${where}[0]`, depth + 1) : null;
      if (badItem) out.push(badItem.map(({ value, reason }) => ({ value: [value], reason })));
    }
    if (types.includes('object') && depth < MAX_DEPTH) {
      const props = (s.properties as Schema | undefined) ?? {};
      const required = ((s.required as string[] | undefined) ?? []).filter((r) => r in props);
      const valid = this.validArbitrary({ ...s, nullable: false }, depth) as fc.Arbitrary<Record<string, unknown>>;
      if (required.length) {
        out.push(
          fc.tuple(valid, fc.constantFrom(...required)).map(([v, key]) => {
            const copy = { ...v };
            delete copy[key];
            return { value: copy, reason: `missing required ${where ? `${where}.` : ''}${key}` };
          }),
        );
      }
      if (s.additionalProperties === false) {
        out.push(valid.map((v) => ({ value: { ...v, zz_unknown_property: 1 }, reason: `unknown property at ${at}` })));
      }
      const propMutations = Object.entries(props)
        .map(([k, v]) => [k, this.invalidArbitrary(v, where ? `${where}.${k}` : k, depth + 1)] as const)
        .filter((e): e is readonly [string, fc.Arbitrary<{ value: unknown; reason: string }>] => e[1] !== null);
      if (propMutations.length) {
        out.push(
          fc
            .tuple(valid, fc.oneof(...propMutations.map(([k, arb]) => arb.map((bad) => ({ k, bad })))))
            .map(([v, { k, bad }]) => ({ value: { ...v, [k]: bad.value }, reason: bad.reason })),
        );
      }
    }
    return out.length ? fc.oneof(...out) : null;
  }
}
