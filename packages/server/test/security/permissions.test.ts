import { describe, expect, it } from 'vitest';
import {
  InvalidScopeError,
  appSlugFromScope,
  allowId,
  allowWholeType,
  isMaximal,
  maximalSet,
  parseScope,
  permissionsFromManifest,
  serializeScope,
} from '../../src/security/permissions.js';

describe('parseScope', () => {
  it('parses the documented syntax', () => {
    expect(parseScope('io.cozy.settings io.cozy.files:GET,POST io.cozy.files:GET:id1,id2:dir_id')).toEqual([
      { type: 'io.cozy.settings', verbs: 'ALL' },
      { type: 'io.cozy.files', verbs: ['GET', 'POST'] },
      { type: 'io.cozy.files', verbs: ['GET'], values: ['id1', 'id2'], selector: 'dir_id' },
    ]);
  });

  it('`*` is the maximal set', () => {
    const perms = parseScope('*');
    expect(perms).toEqual(maximalSet());
    expect(isMaximal(perms)).toBe(true);
    expect(isMaximal(parseScope('  *  '))).toBe(true);
    expect(isMaximal(parseScope('io.cozy.files'))).toBe(false);
  });

  it('normalizes verbs (ALL, all five, duplicates, canonical order)', () => {
    expect(parseScope('io.cozy.files:ALL')[0]!.verbs).toBe('ALL');
    expect(parseScope('io.cozy.files:DELETE,PATCH,PUT,POST,GET')[0]!.verbs).toBe('ALL');
    expect(parseScope('io.cozy.files:POST,GET,POST')[0]!.verbs).toEqual(['GET', 'POST']);
    expect(parseScope('io.cozy.files:ALL:abc')[0]).toEqual({ type: 'io.cozy.files', verbs: 'ALL', values: ['abc'] });
  });

  it('tolerates surrounding and repeated spaces', () => {
    expect(parseScope('  io.cozy.a   io.cozy.b ')).toEqual([
      { type: 'io.cozy.a', verbs: 'ALL' },
      { type: 'io.cozy.b', verbs: 'ALL' },
    ]);
  });

  it.each([
    '',
    '   ',
    ':GET',
    'io.cozy.files:',
    'io.cozy.files:GET:',
    'io.cozy.files:GET:a,,b',
    'io.cozy.files:GET:a:',
    'io.cozy.files:GET:a:b:c',
    'io.cozy.files:FETCH',
    'io.cozy.files:get',
    'io.cozy.files io.cozy.settings:',
    'io.cozy.files * ',
    '* io.cozy.files',
    'io.*',
    'io.cozy.*',
    'io/cozy',
    'io.cozy.files\tio.cozy.settings',
  ])('rejects %j with InvalidScopeError', (scope) => {
    expect(() => parseScope(scope)).toThrow(InvalidScopeError);
  });

  it('non-strings and huge scopes give InvalidScopeError', () => {
    for (const bad of [undefined, null, 42, {}, ['io.cozy.files']]) {
      try {
        parseScope(bad);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidScopeError);
        expect((err as InvalidScopeError).code).toBe('invalid_scope');
      }
    }
    expect(() => parseScope('io.cozy.a '.repeat(5000))).toThrow(InvalidScopeError);
  });

  it('accepts deep enough wildcards', () => {
    expect(parseScope('io.cozy.bank.*:GET')).toEqual([{ type: 'io.cozy.bank.*', verbs: ['GET'] }]);
  });
});

describe('checks', () => {
  const perms = parseScope(
    'io.cozy.settings:GET io.cozy.files:GET,POST io.cozy.contacts:GET:c1,c2 io.cozy.photos:GET:a1:album_id io.cozy.bank.*:GET',
  );

  it('allowWholeType needs a rule on the whole type with that verb', () => {
    expect(allowWholeType(perms, 'GET', 'io.cozy.settings')).toBe(true);
    expect(allowWholeType(perms, 'PUT', 'io.cozy.settings')).toBe(false);
    expect(allowWholeType(perms, 'POST', 'io.cozy.files')).toBe(true);
    expect(allowWholeType(perms, 'DELETE', 'io.cozy.files')).toBe(false);
    expect(allowWholeType(perms, 'GET', 'io.cozy.contacts')).toBe(false); // values restrict it
    expect(allowWholeType(perms, 'GET', 'io.cozy.settings.instance')).toBe(false);
    expect(allowWholeType(perms, 'GET', 'io.cozy.bank')).toBe(true);
    expect(allowWholeType(perms, 'GET', 'io.cozy.bank.accounts')).toBe(true);
    expect(allowWholeType(perms, 'GET', 'io.cozy.banking')).toBe(false);
    expect(allowWholeType([], 'GET', 'io.cozy.settings')).toBe(false);
  });

  it('the maximal set passes every check', () => {
    const max = parseScope('*');
    for (const verb of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      expect(allowWholeType(max, verb, 'io.cozy.settings')).toBe(true);
      expect(allowId(max, verb, 'io.cozy.files', 'x')).toBe(true);
    }
  });

  it('allowId', () => {
    expect(allowId(perms, 'GET', 'io.cozy.contacts', 'c1')).toBe(true);
    expect(allowId(perms, 'GET', 'io.cozy.contacts', 'c3')).toBe(false);
    expect(allowId(perms, 'PUT', 'io.cozy.contacts', 'c1')).toBe(false);
    expect(allowId(perms, 'GET', 'io.cozy.files', 'anything')).toBe(true);
    // values bound to a selector are not document ids
    expect(allowId(perms, 'GET', 'io.cozy.photos', 'a1')).toBe(false);
  });

  it('a rule with no verbs at all (empty list) means all verbs', () => {
    expect(allowWholeType([{ type: 'io.cozy.x', verbs: [] }], 'DELETE', 'io.cozy.x')).toBe(true);
  });
});

describe('permissionsFromManifest', () => {
  it('builds rules; missing/empty verbs and ["ALL"] mean all verbs', () => {
    expect(
      permissionsFromManifest({
        settings: { type: 'io.cozy.settings', description: 'read settings', verbs: ['GET'] },
        files: { type: 'io.cozy.files' },
        apps: { type: 'io.cozy.apps', verbs: ['ALL'] },
        jobs: { type: 'io.cozy.jobs', verbs: [], values: ['sendmail'], selector: 'worker' },
        contacts: { type: 'io.cozy.contacts', verbs: ['GET', 'PUT'], values: [] },
      }),
    ).toEqual([
      { type: 'io.cozy.settings', verbs: ['GET'] },
      { type: 'io.cozy.files', verbs: 'ALL' },
      { type: 'io.cozy.apps', verbs: 'ALL' },
      { type: 'io.cozy.jobs', verbs: 'ALL', values: ['sendmail'], selector: 'worker' },
      { type: 'io.cozy.contacts', verbs: ['GET', 'PUT'] },
    ]);
  });

  it.each([
    [null],
    [[]],
    ['io.cozy.files'],
    [{ a: null }],
    [{ a: { verbs: ['GET'] } }],
    [{ a: { type: '*' } }],
    [{ a: { type: 'io.cozy.files', verbs: 'GET' } }],
    [{ a: { type: 'io.cozy.files', verbs: ['FETCH'] } }],
    [{ a: { type: 'io.cozy.files', values: [1] } }],
    [{ a: { type: 'io.cozy.files', values: ['x'], selector: 3 } }],
  ])('rejects malformed manifest %j with InvalidScopeError', (m) => {
    expect(() => permissionsFromManifest(m)).toThrow(InvalidScopeError);
  });
});

describe('serializeScope', () => {
  it('round-trips', () => {
    for (const scope of [
      '*',
      'io.cozy.settings',
      'io.cozy.files:GET,POST',
      'io.cozy.files:GET:id1,id2:dir_id',
      'io.cozy.files:ALL:id1 io.cozy.settings:GET io.cozy.bank.*',
    ]) {
      expect(serializeScope(parseScope(scope))).toBe(scope);
    }
  });

  it('serializes manifest rules', () => {
    const rules = permissionsFromManifest({
      a: { type: 'io.cozy.jobs', values: ['sendmail'], selector: 'worker' },
      b: { type: 'io.cozy.settings', verbs: ['GET'] },
    });
    expect(serializeScope(rules)).toBe('io.cozy.jobs:ALL:sendmail:worker io.cozy.settings:GET');
  });

  it('refuses unrepresentable rules with InvalidScopeError', () => {
    expect(() => serializeScope([])).toThrow(InvalidScopeError);
    expect(() => serializeScope([{ type: 'io.cozy.x', verbs: 'ALL', selector: 's' }])).toThrow(InvalidScopeError);
    expect(() => serializeScope([{ type: 'io.cozy.x', verbs: 'ALL', values: ['a b'] }])).toThrow(InvalidScopeError);
    expect(() => serializeScope([{ type: 'io.cozy.x', verbs: 'ALL', values: ['a:b'] }])).toThrow(InvalidScopeError);
    expect(() => serializeScope([{ type: 'bad type', verbs: 'ALL' }])).toThrow(InvalidScopeError);
  });
});

describe('appSlugFromScope', () => {
  it('extracts the slug of @io.cozy.apps/<slug> only', () => {
    expect(appSlugFromScope('@io.cozy.apps/drive')).toBe('drive');
    expect(appSlugFromScope(' @io.cozy.apps/my-app ')).toBe('my-app');
    expect(appSlugFromScope('@io.cozy.apps/')).toBeNull();
    expect(appSlugFromScope('@io.cozy.apps/a b')).toBeNull();
    expect(appSlugFromScope('io.cozy.apps')).toBeNull();
    expect(appSlugFromScope(undefined)).toBeNull();
    expect(() => parseScope('@io.cozy.apps/drive')).toThrow(InvalidScopeError);
  });
});
